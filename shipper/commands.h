// The command line of kumasim-shipper: `validate` and `run` (docs/shipper.md).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>

namespace kumasim::shipper {

struct ValidateCommand;
struct RunCommand;

// Each add_* registers its subcommand; run the one the user selected.
std::shared_ptr<ValidateCommand> add_validate_command(CLI::App& app);
std::shared_ptr<RunCommand> add_run_command(CLI::App& app);
bool selected(const ValidateCommand& command);
bool selected(const RunCommand& command);
int run_validate(const ValidateCommand& command);
int run_run(const RunCommand& command);

}  // namespace kumasim::shipper
