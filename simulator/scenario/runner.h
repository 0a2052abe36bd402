// Plays one scenario: starts its listeners in-process on ephemeral ports,
// runs the shipper against them, writes the audit log, fires the faults at
// their triggers, and evaluates every expectation as the events arrive, so
// that a run ends as soon as its verdict is decided and memory stays bounded.
#pragma once

#include "simulator/scenario/scenario.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kumasim::scenario {

struct RunOptions {
  std::string shipper_binary;  // the bundled kumasim-shipper
  // Where the run's folder goes (artifacts/<scenario name>/, kept); empty:
  // a temporary folder, removed when the scenario passes.
  std::string artifacts;
};

struct ScenarioResult {
  std::string name, path;
  bool pass = false;
  double seconds = 0;
  // One line per failed check ("events[0] kubelet only: every: …",
  // "delivered[0]: 3 of 4 selected lines missing, first line 7"), or why the
  // run itself could not be made ("listener kuma: …").
  std::vector<std::string> failures;
  // {"events": the expectation result, "delivered": […], "latency": […],
  //  "shipper": {"exit", "summary"?, "checks"}, "timeline": ["0.012s shipper started", …],
  //  "listeners": stats per listener}
  nlohmann::json details;
  std::string run_dir;  // kept: the artefacts (events.jsonl, shipper.log, manifests); empty when removed
};

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options);

}  // namespace kumasim::scenario
