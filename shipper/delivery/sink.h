// What every transport of a destination shares: the sender thread's view of
// the delivery (its buffer, counters, stop request and log), the interface
// the thread runs, the reconnection back-off and the state-change log.
#pragma once

#include "shipper/delivery/buffer.h"
#include "shipper/delivery/stopper.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace kumasim::shipper {

// A batch is what a sender takes from the buffer at once: up to 64 KiB of
// payload, the unit of one write or sendmmsg.
inline constexpr std::size_t kBatchBytes = 64 * 1024;
inline constexpr std::size_t kBatchMessages = 1024;

struct SinkContext {
  Buffer& buffer;
  DeliveryCounters& counters;
  const Stopper& stopper;
  // Thread-safe; each line already names the destination.
  std::function<void(const std::string&)> log;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // The sender thread's body: delivers what the buffer holds until the
  // stopper fires. In-flight messages that are not done by then are given
  // back to the buffer (a disk buffer keeps them for the next run).
  virtual void run() = 0;
};

// Delays between connection attempts: 100 ms doubling up to 5 s, back to
// 100 ms after a success.
class Backoff {
 public:
  std::chrono::milliseconds next();
  void reset() { delay_ = kFirst; }

 private:
  static constexpr std::chrono::milliseconds kFirst{100}, kMax{5000};
  std::chrono::milliseconds delay_ = kFirst;
};

// Logs a connection's state changes, not every retry: each failure text once
// until the next recovery, then the recovery once.
class StateLog {
 public:
  explicit StateLog(std::function<void(const std::string&)> log) : log_(std::move(log)) {}
  void failure(const std::string& text);
  void recovery(const std::string& text);
  bool failing() const { return !failures_.empty(); }

 private:
  std::function<void(const std::string&)> log_;
  std::vector<std::string> failures_;  // logged since the last recovery
};

}  // namespace kumasim::shipper
