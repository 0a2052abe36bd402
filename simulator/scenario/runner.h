// Plays one scenario: starts its listeners in-process on ephemeral ports,
// runs the shipper against them, writes the audit log, fires the faults at
// their triggers, and evaluates every expectation as the events arrive, so
// that a run ends as soon as its verdict is decided and memory stays bounded.
#pragma once

#include "simulator/scenario/scenario.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <vector>

namespace kumasim::scenario {

struct RunOptions {
  std::string shipper_binary;  // the bundled kumasim-shipper
  // Where the run's folder goes (artifacts/<scenario name>/, kept); empty:
  // a temporary folder, removed when the scenario passes.
  std::string artifacts;
  // Set by a signal handler: every scenario still running ends at once,
  // failed, its sender stopped and its folder kept.
  const std::atomic<bool>* interrupted = nullptr;
};

struct ScenarioResult {
  std::string name, path;
  bool pass = false;
  double seconds = 0;
  // One line per failed check (`events "kubelet only": every: …`,
  // `delivered "all": 3 of 4 selected lines missing, first line 7`, a fault
  // that never fired), or why the run could not be made ("listener kuma: …").
  std::vector<std::string> failures;
  // {"events": the expectation result, "delivered": […], "latency": […],
  //  "shipper": {"exit", "summary"?}, "listeners": stats per listener,
  //  "timeline": ["0.012s shipper started", …], "throughput": {"events",
  //  "seconds", "events_per_second", "process_peak_rss_kib"}}
  nlohmann::json details;
  std::string run_dir;  // kept: the artefacts (events.jsonl, shipper.log, manifests); empty when removed
};

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options);

}  // namespace kumasim::scenario
