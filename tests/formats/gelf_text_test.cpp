// GELF (dkp-log-shipper.md §10.6) and Text (§10.5) on the §13 example.
#include "formats/gelf.h"
#include "formats/text.h"
#include "support/dkp_example.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kumasim::formats {
namespace {

using testing::gen_c_event;
using testing::kAuditLine;

std::string gelf_of(const nlohmann::json& event) {
  std::string out;
  EXPECT_EQ(gelf::encode(event, out), std::nullopt);
  return out;
}

TEST(Gelf, TheWorkedExample) {
  std::string expected = R"({"_host_ip":"10.0.0.5","_source_type":"file","file":"/var/log/kube-audit/audit.log",)"
                         R"("host":"master-0","short_message":)";
  expected += nlohmann::json(kAuditLine).dump() + R"(,"timestamp":1736925630.13,"version":"1.1"})";
  EXPECT_EQ(gelf_of(gen_c_event()), expected);
}

TEST(Gelf, WholeSecondsAreAnInteger) {
  auto event = gen_c_event();
  event["timestamp"] = "2025-01-15T10:20:30.000999+03:00";
  EXPECT_NE(gelf_of(event).find(R"("timestamp":1736925630,)"), std::string::npos);
}

TEST(Gelf, NestedLabelsAreFlattenedAndRenamed) {
  auto event = gen_c_event();
  event["cef"] = {{"name", "d8"}, {"severity", 1}};
  event["a-b/c"] = {{"d.e", true}};
  event["groups"] = {"system:nodes", "system:authenticated", 3};
  event["nothing"] = nullptr;
  const auto out = nlohmann::json::parse(gelf_of(event));
  EXPECT_EQ(out["_cef_name"], "d8");
  EXPECT_EQ(out["_cef_severity"], 1);  // numbers stay numbers
  EXPECT_EQ(out["_a_b_c_d_e"], "true");
  EXPECT_EQ(out["_groups"], "system:nodes, system:authenticated, 3");
  EXPECT_EQ(out["_nothing"], "");
}

TEST(Gelf, HostFallsBackToNodeAndIsRequired) {
  auto event = gen_c_event();
  event.erase("host");
  std::string out;
  EXPECT_EQ(gelf::encode(event, out), gelf::EncodeError::host_missing);
  event["node"] = "worker-1";
  EXPECT_NE(gelf_of(event).find(R"("host":"worker-1")"), std::string::npos);
}

TEST(Gelf, ATimestampThatDoesNotParseDropsTheEvent) {
  auto event = gen_c_event();
  event["timestamp"] = "yesterday";
  std::string out;
  EXPECT_EQ(gelf::encode(event, out), gelf::EncodeError::timestamp_invalid);
}

TEST(Text, SendsTheMessageOnly) {
  std::string out = "stale";
  text::encode(gen_c_event(), out);
  EXPECT_EQ(out, kAuditLine);
  text::encode({{"host", "x"}}, out);
  EXPECT_EQ(out, "");  // absent message: an empty payload
  text::encode({{"message", {{"b", 1}, {"a", 2.0}}}}, out);
  EXPECT_EQ(out, R"({"a":2.0,"b":1})");
  text::encode({{"message", 2.5}}, out);
  EXPECT_EQ(out, "2.5");
}

}  // namespace
}  // namespace kumasim::formats
