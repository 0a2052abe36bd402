// `kumasim run PATH…`: plays scenario files (or every *.yaml in folders)
// and reports (docs/scenarios.md).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>

namespace kumasim::cli {

struct RunCommandOptions;
std::shared_ptr<RunCommandOptions> add_run_command(CLI::App& app);
bool run_selected(const RunCommandOptions& options);
// Exit status: 0 when every scenario passes, 1 when one fails, 2 when a
// scenario file is invalid (nothing is run then) or an output cannot be written.
int run_scenarios(const RunCommandOptions& options);

}  // namespace kumasim::cli
