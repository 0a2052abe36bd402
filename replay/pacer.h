// Replay pacing, shared by kumasim-shipper and the scenario runner: `--rate N/s`, or `--pace recorded --speed X`, where events
// are spaced as their audit records' requestReceivedTimestamp (or
// stageTimestamp) were. Waits are interruptible so a signal stops a replay at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

namespace kumasim::replay {

// A one-way flag that waiting threads wake up for (a stop request, "reading is over").
class Flag {
 public:
  void raise();
  bool raised() const;
  // Waits until `deadline` or the flag; true when the flag is raised.
  bool wait_until(std::chrono::steady_clock::time_point deadline);

 private:
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool raised_ = false;
};

class Pacer {
 public:
  struct Rate {
    double per_second;
  };
  struct Recorded {
    double speed = 1.0;
  };
  Pacer() = default;  // no pacing
  explicit Pacer(Rate rate);
  explicit Pacer(Recorded recorded);

  // Waits until `line` is due; false when stopped meanwhile.
  bool wait(std::string_view line, Flag& stop);

 private:
  enum class Mode { none, rate, recorded } mode_ = Mode::none;
  std::chrono::nanoseconds interval_{0};
  double speed_ = 1.0;
  std::optional<std::chrono::steady_clock::time_point> next_;
  std::optional<std::int64_t> first_record_ns_;
};

// The audit record's requestReceivedTimestamp, else stageTimestamp, found
// without parsing the whole line.
std::optional<std::int64_t> record_time_ns(std::string_view line);

}  // namespace kumasim::replay
