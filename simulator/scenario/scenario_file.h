// Reading a scenario file (docs/scenarios.md) into the Scenario model,
// validated: every key known, every value checked, every reference resolved
// (listener names, files relative to the scenario's folder, the expectation
// language compiled once). The first error is returned as one line:
//
//   FILE:LINE:COLUMN: field.path: what is wrong (the rule / the accepted values)
#pragma once

#include "simulator/scenario/scenario.h"

#include <string>
#include <variant>

namespace kumasim::scenario {

// Reads and validates the file at `path`.
std::variant<Scenario, std::string> load_scenario(const std::string& path);

// The same from text already read: `path` names the file in errors, gives the
// default name (its stem), and its folder resolves relative paths (which must
// exist).
std::variant<Scenario, std::string> parse_scenario(const std::string& text, const std::string& path);

// "500ms", "2s", "1.5m", "1h", or an integer of milliseconds; nullopt if not.
std::optional<Duration> parse_duration(std::string_view text);

}  // namespace kumasim::scenario
