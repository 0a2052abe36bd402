// When a scenario's faults fire: each when the first condition of its
// trigger is reached, once; the end of a Kafka broker outage given a
// duration. Every fault must fire and apply: one that never fires, or that
// could not be applied, fails the scenario (it would prove nothing).
#pragma once

#include "simulator/scenario/scenario.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kumasim::scenario {

// What a trigger compares with.
struct Progress {
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> per_listener;  // events, bytes
  std::uint64_t events = 0, bytes = 0;
  std::uint64_t lines = 0;          // input lines written
  std::optional<std::chrono::milliseconds> since_start;  // since the sender started (or the input, without one)
};

class FaultPlan {
 public:
  explicit FaultPlan(const std::vector<FaultSpec>& faults);

  struct Due {
    std::size_t index;  // in the scenario's faults
    FaultSpec fault;    // a broker outage's end is a kafka_broker_up
  };
  // The faults due now, each at most once, in order; marks them fired.
  std::vector<Due> due(const Progress& progress, std::chrono::steady_clock::time_point now);
  // A kafka_broker_down with a duration: its end, due at `at`.
  void schedule_end(const Due& down, std::chrono::steady_clock::time_point at);
  void not_applied(std::size_t index, const std::string& why);
  bool pending() const;  // scheduled ends not yet due
  // "faults[1] (drop_connections on kuma): never fired" …
  std::vector<std::string> failures() const;

 private:
  static bool reached(const Trigger& at, const Progress& progress);

  const std::vector<FaultSpec>& faults_;
  std::vector<bool> fired_;
  std::vector<std::string> problems_;  // per fault: why it did not apply
  std::vector<std::pair<std::chrono::steady_clock::time_point, Due>> ends_;
};

}  // namespace kumasim::scenario
