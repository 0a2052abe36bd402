#include "simulator/scenario/fault_plan.h"

namespace kumasim::scenario {

FaultPlan::FaultPlan(const std::vector<FaultSpec>& faults)
    : faults_(faults), fired_(faults.size(), false), problems_(faults.size()) {}

bool FaultPlan::reached(const Trigger& at, const Progress& progress) {
  std::uint64_t events = progress.events, bytes = progress.bytes;
  if (!at.listener.empty()) {
    const auto it = progress.per_listener.find(at.listener);
    events = it == progress.per_listener.end() ? 0 : it->second.first;
    bytes = it == progress.per_listener.end() ? 0 : it->second.second;
  }
  return (at.events && events >= *at.events) || (at.bytes && bytes >= *at.bytes) ||
         (at.lines && progress.lines >= *at.lines) ||
         (at.time && progress.since_start && *progress.since_start >= *at.time);
}

std::vector<FaultPlan::Due> FaultPlan::due(const Progress& progress, std::chrono::steady_clock::time_point now) {
  std::vector<Due> out;
  for (auto it = ends_.begin(); it != ends_.end();) {
    if (now < it->first) {
      ++it;
      continue;
    }
    out.push_back(it->second);
    it = ends_.erase(it);
  }
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    if (fired_[i] || !reached(faults_[i].at, progress)) continue;
    fired_[i] = true;
    out.push_back({i, faults_[i]});
  }
  return out;
}

void FaultPlan::schedule_end(const Due& down, std::chrono::steady_clock::time_point at) {
  Due up = down;
  up.fault.action = FaultSpec::Action::kafka_broker_up;
  ends_.emplace_back(at, up);
}

void FaultPlan::not_applied(std::size_t index, const std::string& why) {
  if (problems_[index].empty()) problems_[index] = why;
}

bool FaultPlan::pending() const { return !ends_.empty(); }

std::vector<std::string> FaultPlan::failures() const {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    const auto& f = faults_[i];
    const std::string what = "faults[" + std::to_string(i) + "] (" + std::string(action_name(f.action)) +
                             (f.listener.empty() ? "" : " on " + f.listener) + "): ";
    if (!fired_[i]) out.push_back(what + "never fired: its trigger was not reached");
    else if (!problems_[i].empty()) out.push_back(what + "not applied: " + problems_[i]);
  }
  return out;
}

}  // namespace kumasim::scenario
