// What `kumasim run` prints and writes.
#include "simulator/scenario/report.h"

#include <gtest/gtest.h>

namespace kumasim::scenario {
namespace {

std::vector<ScenarioResult> two_results() {
  ScenarioResult pass;
  pass.name = "dkp-tcp-json";
  pass.path = "scenarios/dkp/tcp-json.yaml";
  pass.pass = true;
  pass.seconds = 0.5;
  pass.details = {{"timeline", {"0.001s shipper started"}}};
  ScenarioResult fail;
  fail.name = "a<b>&\"c\"";
  fail.path = "x.yaml";
  fail.seconds = 1.25;
  fail.failures = {"events \"n\": count: 3 selected, expected eq 4", "second" "\x01" "failure"};
  fail.run_dir = "/tmp/run";
  return {pass, fail};
}

TEST(Report, TableHasARowPerScenarioTotalsAndTheFailuresInFull) {
  const std::string table = result_table(two_results(), 2.0, false);
  EXPECT_NE(table.find("PASS  dkp-tcp-json"), std::string::npos) << table;
  EXPECT_NE(table.find("FAIL  a<b>&\"c\""), std::string::npos) << table;
  EXPECT_NE(table.find("1 of 2 scenarios passed in 2.00 s"), std::string::npos) << table;
  EXPECT_NE(table.find("  - events \"n\": count: 3 selected, expected eq 4\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  artefacts: /tmp/run\n"), std::string::npos) << table;
  EXPECT_EQ(table.find("\033["), std::string::npos);  // no colour off a terminal
  EXPECT_NE(result_table(two_results(), 2.0, true).find("\033[32mPASS\033[0m"), std::string::npos);
}

TEST(Report, JunitIsEscapedAndCountsFailures) {
  const std::string xml = junit_xml(two_results(), 2.0);
  EXPECT_NE(xml.find(R"(<testsuite name="scenarios" tests="2" failures="1" errors="0" time="2.00">)"), std::string::npos) << xml;
  EXPECT_NE(xml.find(R"(<testcase classname="scenarios" name="dkp-tcp-json" file="scenarios/dkp/tcp-json.yaml" time="0.50">)"),
            std::string::npos) << xml;
  EXPECT_NE(xml.find(R"(name="a&lt;b&gt;&amp;&quot;c&quot;")"), std::string::npos) << xml;
  EXPECT_NE(xml.find(R"(<failure message="events &quot;n&quot;: count: 3 selected, expected eq 4">)"), std::string::npos) << xml;
  EXPECT_NE(xml.find("second?failure"), std::string::npos) << "control characters are not XML";
  EXPECT_NE(xml.find("<system-out>0.001s shipper started\n</system-out>"), std::string::npos) << xml;
}

TEST(Report, JsonCarriesEverything) {
  const auto json = results_json(two_results(), 2.0);
  EXPECT_EQ(json["pass"], false);
  ASSERT_EQ(json["scenarios"].size(), 2u);
  EXPECT_EQ(json["scenarios"][1]["failures"][0], "events \"n\": count: 3 selected, expected eq 4");
  EXPECT_EQ(json["scenarios"][0]["run_dir"], nullptr);
  EXPECT_EQ(json["scenarios"][1]["run_dir"], "/tmp/run");
}

}  // namespace
}  // namespace kumasim::scenario
