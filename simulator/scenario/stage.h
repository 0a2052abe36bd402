// What a scenario is played on: its folder, its listeners running in-process
// on ephemeral ports (with the TLS material made for them), the values of
// the placeholders, and the manifests and files the sender reads, templated.
#pragma once

#include "simulator/scenario/runner.h"
#include "simulator/scenario/sender.h"
#include "simulator/server.h"

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

namespace kumasim::scenario {

// A run that cannot be made: the message becomes the scenario's failure.
struct SetupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Stage {
  std::filesystem::path dir;  // the run's folder
  bool temporary = false;     // made for this run: removed when it passes
  std::unique_ptr<sim::Server> server;
  std::map<std::string, std::string> values;  // placeholder → value

  std::filesystem::path audit_log() const { return dir / "root/var/log/kube-audit/audit.log"; }
  std::filesystem::path summary() const { return dir / "summary.json"; }
  std::filesystem::path sender_log() const { return dir / "shipper.log"; }
  // What the run left: the bundled shipper's --summary (null when it wrote
  // none, or nothing readable), and everything the sender printed.
  nlohmann::json shipper_summary() const;
  std::string sender_output() const;
};

// Makes the folder, starts the listeners (Kafka ones have joined their group
// when it returns), fills the placeholders and writes the sender's files.
// Throws SetupError. `note` records the steps in the run's timeline.
Stage build_stage(const Scenario& scenario, const RunOptions& options, const std::function<void(const std::string&)>& note);

// How to start the scenario's sender on `stage`.
Sender::Launch sender_launch(const Scenario& scenario, const Stage& stage, const RunOptions& options);

}  // namespace kumasim::scenario
