// What `kumasim run` prints and writes: a table for people, JUnit XML for CI
// servers, JSON for tools.
#pragma once

#include "simulator/scenario/runner.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kumasim::scenario {

// One row per scenario (PASS/FAIL, name, seconds, the first failure), then a
// line of totals; failures are listed in full under the table.
std::string result_table(const std::vector<ScenarioResult>& results, double seconds, bool colour);

// <testsuites><testsuite name="kumasim"><testcase classname="scenarios.FILE-STEM" name=NAME>…
std::string junit_xml(const std::vector<ScenarioResult>& results, double seconds);

// {"pass", "seconds", "scenarios": [{"name","path","pass","seconds","failures","run_dir","details"}]}
nlohmann::json results_json(const std::vector<ScenarioResult>& results, double seconds);

}  // namespace kumasim::scenario
