#include "simulator/expect.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kumasim::expect {
namespace {

using nlohmann::json;

// The kubelet audit record DKP ships (dkp-log-shipper.md §13), as it arrives
// in the CEF `message` extension.
const std::string kAudit =
    R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"4d2c6a0e-1b7f-4c51-9a3e-2f0d8b6c7e11",)"
    R"("stage":"ResponseComplete","requestURI":"/api/v1/nodes/master-0?timeout=10s","verb":"get",)"
    R"("user":{"username":"system:node:master-0","groups":["system:nodes","system:authenticated"]},)"
    R"("userAgent":"kubelet/v1.29.4 (linux/amd64) kubernetes/55019c8","responseStatus":{"metadata":{},"code":200}})";

// A DKP CEF event as the simulator stores it.
json cef_event(int id, const std::string& severity = "5", const std::string& listener = "kuma") {
  const std::string raw = "CEF:1|Deckhouse|log-shipper-agent|1|Log event|Deckhouse Event|" + severity + "|message=" + kAudit;
  const json extensions = {{"file", "/var/log/kube-audit/audit.log"}, {"host", "master-0"}, {"hostip", "10.0.0.5"},
                           {"message", kAudit}, {"timestamp", "2025-01-15T10:20:30.130512345+03:00"}};
  json extra = extensions;
  extra["cefVersion"] = "1";
  extra["label.team"] = "platform";
  return {{"id", id},
          {"listener", listener},
          {"transport", "tcp"},
          {"peer", "127.0.0.1:40312"},
          {"received_ns", 1764170000123456789ULL + static_cast<unsigned long long>(id)},
          {"size", 812},
          {"raw", raw},
          {"truncated", false},
          {"ok", true},
          {"format", "cef"},
          {"fields", {{"device_vendor", "Deckhouse"}, {"severity", severity}, {"version", 1}, {"extensions", extensions}}},
          {"kuma",
           {{"DeviceVendor", "Deckhouse"}, {"DeviceProduct", "log-shipper-agent"}, {"DeviceEventClassID", "Log event"},
            {"Name", "Deckhouse Event"}, {"Severity", severity}, {"Extra", extra}}},
          {"lints",
           {{{"id", "cef-version-1"}, {"level", "warn"}},
            {{"id", "cef-nonstandard-extension-keys"}, {"level", "info"}, {"detail", "file,host,hostip,message,timestamp"}}}}};
}

// A frame that did not decode.
json failed_event(int id) {
  return {{"id", id}, {"listener", "syslog"}, {"transport", "udp"}, {"raw", "<13>garbage"}, {"ok", false},
          {"format", "rfc5424"}, {"error", {{"offset", 4}, {"reason", "bad VERSION"}}}, {"lints", json::array()}};
}

Expectations compiled(const json& body) {
  auto parsed = parse(body);
  if (auto* error = std::get_if<ParseError>(&parsed)) ADD_FAILURE() << error->text();
  return std::get<Expectations>(std::move(parsed));
}

std::string error_of(const json& body) {
  auto parsed = parse(body);
  if (auto* error = std::get_if<ParseError>(&parsed)) return error->text();
  return "(parsed)";
}

json evaluate(const json& body, const std::vector<json>& events) {
  Evaluation evaluation(compiled(body));
  for (const auto& event : events) evaluation.observe(event);
  json result = evaluation.result();
  EXPECT_NO_THROW(static_cast<void>(result.dump()));
  return result;
}

// Whether one matcher holds for one event, through "every".
bool holds(const json& matcher, const json& event) {
  return evaluate({{"every", {matcher}}}, {event})["pass"].get<bool>();
}

// The reason the first failing event gives.
std::string reason(const json& body, const std::vector<json>& events) {
  const json result = evaluate(body, events);
  const json& failing = result["expectations"][0]["failing"];
  return failing.empty() ? "(none failing)" : failing[0]["reason"].get<std::string>();
}

std::string failure(const json& matcher, const json& event) { return reason({{"every", {matcher}}}, {event}); }

// ------------------------------------------------------------- predicates

TEST(ExpectEquals, StringsCompareAsStrings) {
  EXPECT_TRUE(holds({{"field", "kuma.Severity"}, {"equals", "5"}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "kuma.Severity"}, {"equals", "1"}}, cef_event(1)));
  EXPECT_EQ(failure({{"field", "kuma.Severity"}, {"equals", "1"}}, cef_event(7)),
            R"(every[0]: kuma.Severity is "5", expected equals "1")");
}

TEST(ExpectEquals, NumbersCompareNumerically) {
  EXPECT_TRUE(holds({{"field", "size"}, {"equals", 812}}, cef_event(1)));
  EXPECT_TRUE(holds({{"field", "size"}, {"equals", 812.0}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "size"}, {"equals", 812.5}}, cef_event(1)));
  EXPECT_TRUE(holds({{"field", "received_ns"}, {"equals", 1764170000123456790ULL}}, cef_event(1)));
  // Beyond double's 53 bits: a neighbouring nanosecond is a different value.
  EXPECT_FALSE(holds({{"field", "received_ns"}, {"equals", 1764170000123456791ULL}}, cef_event(1)));
}

TEST(ExpectEquals, TypesDoNotConvert) {
  EXPECT_FALSE(holds({{"field", "kuma.Severity"}, {"equals", 5}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "size"}, {"equals", "812"}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "ok"}, {"equals", 1}}, cef_event(1)));
  EXPECT_EQ(failure({{"field", "kuma.Severity"}, {"equals", 5}}, cef_event(7)),
            R"(every[0]: kuma.Severity is "5" (a string, not a number), expected equals 5)");
}

TEST(ExpectEquals, StructuredValuesAndNull) {
  EXPECT_TRUE(holds({{"field", "error"}, {"equals", {{"offset", 4.0}, {"reason", "bad VERSION"}}}}, failed_event(1)));
  EXPECT_FALSE(holds({{"field", "error"}, {"equals", {{"offset", 4}}}}, failed_event(1)));  // equals is whole
  EXPECT_TRUE(holds({{"field", "lints"}, {"equals", json::array()}}, failed_event(1)));
  json event = cef_event(1);
  event["fields"]["nothing"] = nullptr;
  EXPECT_TRUE(holds({{"field", "fields.nothing"}, {"equals", nullptr}}, event));
  EXPECT_FALSE(holds({{"field", "fields.absent"}, {"equals", nullptr}}, event));
}

TEST(ExpectEquals, MissingFieldFails) {
  EXPECT_EQ(failure({{"field", "kuma.SourceUserName"}, {"equals", "x"}}, cef_event(7)),
            R"(every[0]: kuma.SourceUserName is missing, expected equals "x")");
}

TEST(ExpectRegex, PartialMatchUnlessAnchored) {
  EXPECT_TRUE(holds({{"field", "raw"}, {"regex", "Deckhouse\\|log-shipper"}}, cef_event(1)));
  EXPECT_TRUE(holds({{"field", "raw"}, {"regex", "^CEF:1\\|"}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "raw"}, {"regex", "^Deckhouse"}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "kuma.Severity"}, {"regex", "^[0-4]$"}}, cef_event(1)));
}

TEST(ExpectRegex, NonStringsNeverMatch) {
  EXPECT_FALSE(holds({{"field", "size"}, {"regex", "812"}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "kuma"}, {"regex", "."}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "nope"}, {"regex", ".*"}}, cef_event(1)));
  EXPECT_EQ(failure({{"field", "size"}, {"regex", "^8"}}, cef_event(7)),
            R"(every[0]: size is 812 (not a string), expected regex "^8")");
}

TEST(ExpectRegex, InvalidPatternNamesExpectationMatcherAndRe2Message) {
  const json body = {{"expectations",
                      {{{"count", {{"min", 1}}}},
                       {{"every", {{{"field", "raw"}, {"exists", true}}, {{"field", "raw"}, {"regex", "a(b"}}}}}}}};
  EXPECT_EQ(error_of(body), R"(expectations[1].every[1]: invalid regex "a(b": missing ): a(b)");
  EXPECT_EQ(error_of({{"where", {{"not", {{"field", "raw"}, {"regex", "*"}}}}}, {"count", {{"eq", 0}}}}),
            R"(expectations[0].where.not: invalid regex "*": no argument for repetition operator: *)");
}

TEST(ExpectExists, PresentMissingAndNull) {
  EXPECT_TRUE(holds({{"field", "kuma.Extra.message"}, {"exists", true}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "kuma.Extra.message"}, {"exists", false}}, cef_event(1)));
  EXPECT_TRUE(holds({{"field", "error"}, {"exists", false}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "error"}, {"exists", true}}, cef_event(1)));
  json event = cef_event(1);
  event["fields"]["nothing"] = nullptr;
  EXPECT_TRUE(holds({{"field", "fields.nothing"}, {"exists", true}}, event));
  EXPECT_EQ(failure({{"field", "error.reason"}, {"exists", true}}, cef_event(7)),
            "every[0]: error.reason is missing, expected exists true");
  EXPECT_EQ(failure({{"field", "ok"}, {"exists", false}}, cef_event(7)), "every[0]: ok is true, expected exists false");
}

TEST(ExpectCompare, Numbers) {
  const json event = cef_event(1);
  EXPECT_TRUE(holds({{"field", "size"}, {"lt", 813}}, event));
  EXPECT_FALSE(holds({{"field", "size"}, {"lt", 812}}, event));
  EXPECT_TRUE(holds({{"field", "size"}, {"le", 812}}, event));
  EXPECT_FALSE(holds({{"field", "size"}, {"le", 811.9}}, event));
  EXPECT_TRUE(holds({{"field", "size"}, {"gt", 811.5}}, event));
  EXPECT_FALSE(holds({{"field", "size"}, {"gt", 812}}, event));
  EXPECT_TRUE(holds({{"field", "size"}, {"ge", 812}}, event));
  EXPECT_FALSE(holds({{"field", "size"}, {"ge", 812.01}}, event));
  EXPECT_TRUE(holds({{"field", "size"}, {"ne", 0}}, event));
  EXPECT_FALSE(holds({{"field", "size"}, {"ne", 812}}, event));
  EXPECT_TRUE(holds({{"field", "size"}, {"gt", -1}}, event));
}

TEST(ExpectCompare, BoundsCombineIntoARange) {
  EXPECT_TRUE(holds({{"field", "size"}, {"gt", 0}, {"le", 1024}, {"ne", 500}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "size"}, {"gt", 0}, {"lt", 800}}, cef_event(1)));
  EXPECT_EQ(failure({{"field", "size"}, {"gt", 0}, {"lt", 800}}, cef_event(7)),
            "every[0]: size is 812, expected gt 0, lt 800");
}

TEST(ExpectCompare, NumericStrings) {
  EXPECT_TRUE(holds({{"field", "kuma.Severity"}, {"ge", 5}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "kuma.Severity"}, {"lt", 5}}, cef_event(1)));
  EXPECT_TRUE(holds({{"field", "kuma.Severity"}, {"lt", 5.5}}, cef_event(1)));
  EXPECT_TRUE(holds({{"field", "kuma.Severity"}, {"gt", 4}}, cef_event(1, "4.5")));
  EXPECT_TRUE(holds({{"field", "kuma.Severity"}, {"lt", 0}}, cef_event(1, "-1e3")));
  // Not fully a number: never compares.
  for (const char* text : {"High", "5 ", " 5", "5x", "", "0x10", "inf", "nan"}) {
    EXPECT_FALSE(holds({{"field", "kuma.Severity"}, {"ne", 1}}, cef_event(1, text))) << text;
  }
  EXPECT_EQ(failure({{"field", "kuma.Severity"}, {"gt", 3}}, cef_event(7, "High")),
            R"(every[0]: kuma.Severity is "High" (not a number), expected gt 3)");
}

TEST(ExpectCompare, NonNumbersAndMissingNeverCompare) {
  EXPECT_FALSE(holds({{"field", "ok"}, {"ne", 0}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "kuma"}, {"ne", 0}}, cef_event(1)));
  EXPECT_FALSE(holds({{"field", "absent"}, {"ne", 0}}, cef_event(1)));
}

TEST(ExpectCompare, SixtyFourBitIntegersAreExact) {
  const json event = cef_event(0);  // received_ns 1764170000123456789
  EXPECT_TRUE(holds({{"field", "received_ns"}, {"gt", 1764170000123456788ULL}}, event));
  EXPECT_FALSE(holds({{"field", "received_ns"}, {"gt", 1764170000123456789ULL}}, event));
  EXPECT_TRUE(holds({{"field", "received_ns"}, {"lt", 1764170000123456790ULL}}, event));
  EXPECT_TRUE(holds({{"field", "received_ns"}, {"lt", 1.8e18}}, event));
  EXPECT_TRUE(holds({{"field", "received_ns"}, {"gt", -1}}, event));
  json big = event;
  big["received_ns"] = 18446744073709551615ULL;
  EXPECT_TRUE(holds({{"field", "received_ns"}, {"lt", 1.8446744073709552e19}}, big));  // 2^64 as a double
  EXPECT_TRUE(holds({{"field", "received_ns"}, {"gt", 9223372036854775807LL}}, big));
}

TEST(ExpectJson, SubMatchInsideTheCefMessage) {
  const json event = cef_event(1);
  EXPECT_TRUE(holds({{"field", "kuma.Extra.message"}, {"json", {{"user", {{"username", "system:node:master-0"}}}}}}, event));
  EXPECT_TRUE(holds({{"field", "kuma.Extra.message"}, {"json", {{"verb", "get"}, {"responseStatus", {{"code", 200.0}}}}}}, event));
  EXPECT_TRUE(holds({{"field", "kuma.Extra.message"}, {"json", json::object()}}, event));
  EXPECT_FALSE(holds({{"field", "kuma.Extra.message"}, {"json", {{"user", {{"username", "admin"}}}}}}, event));
  EXPECT_FALSE(holds({{"field", "kuma.Extra.message"}, {"json", {{"impersonatedUser", json::object()}}}}, event));
  EXPECT_FALSE(holds({{"field", "kuma.Extra.message"}, {"json", {{"responseStatus", {{"code", "200"}}}}}}, event));
}

TEST(ExpectJson, ArraysNeedEqualLengthAndElementWiseSubMatch) {
  const json event = cef_event(1);
  const std::string field = "fields.extensions.message";
  EXPECT_TRUE(holds({{"field", field}, {"json", {{"user", {{"groups", {"system:nodes", "system:authenticated"}}}}}}}, event));
  EXPECT_FALSE(holds({{"field", field}, {"json", {{"user", {{"groups", {"system:nodes"}}}}}}}, event));
  EXPECT_FALSE(holds({{"field", field}, {"json", {{"user", {{"groups", {"system:authenticated", "system:nodes"}}}}}}}, event));
  EXPECT_TRUE(holds({{"field", "lints"}, {"json", {{{"id", "cef-version-1"}}, json::object()}}}, event));
}

TEST(ExpectJson, ReasonShowsTheFirstDifference) {
  const json event = cef_event(7);
  EXPECT_EQ(failure({{"field", "kuma.Extra.message"}, {"json", {{"user", {{"username", "admin"}}}}}}, event),
            R"(every[0]: kuma.Extra.message (as JSON) at user.username is "system:node:master-0", expected "admin")");
  EXPECT_EQ(failure({{"field", "kuma.Extra.message"}, {"json", {{"objectRef", {{"resource", "secrets"}}}}}}, event),
            R"(every[0]: kuma.Extra.message (as JSON) at objectRef is missing, expected {"resource":"secrets"})");
  EXPECT_EQ(failure({{"field", "kuma.Extra.message"}, {"json", {{"user", {{"groups", {"system:nodes"}}}}}}}, event),
            R"(every[0]: kuma.Extra.message (as JSON) at user.groups is ["system:nodes","system:authenticated"], )"
            R"(expected ["system:nodes"])");
  EXPECT_EQ(failure({{"field", "lints"}, {"json", {{{"id", "cef-version-1"}}, {{"level", "warn"}}}}}, event),
            R"(every[0]: lints at 1.level is "info", expected "warn")");
}

TEST(ExpectJson, AMatchShowsThePartOfTheRecordItLookedAt) {
  const json user = {{"user", {{"username", "system:node:master-0"}}}};
  EXPECT_EQ(reason({{"none", {{"field", "kuma.Extra.message"}, {"json", user}}}}, {cef_event(7)}),
            R"(none matched: none[0]: kuma.Extra.message (as JSON) has {"user":{"username":"system:node:master-0"}}, )"
            R"(matching json {"user":{"username":"system:node:master-0"}})");
  EXPECT_EQ(failure({{"not", {{"field", "error"}, {"json", {{"offset", 4}}}}}}, failed_event(7)),
            R"(every[0]: error has {"offset":4}, expected not json {"offset":4})");
}

TEST(ExpectJson, FieldsThatAreNotJsonText) {
  EXPECT_FALSE(holds({{"field", "kuma.Extra.host"}, {"json", "master-0"}}, cef_event(1)));
  EXPECT_EQ(failure({{"field", "kuma.Extra.host"}, {"json", "master-0"}}, cef_event(7)),
            R"(every[0]: kuma.Extra.host is "master-0" (not JSON), expected json "master-0")");
  EXPECT_TRUE(holds({{"field", "kuma.Severity"}, {"json", 5}}, cef_event(1)));  // the text "5" is JSON
  EXPECT_TRUE(holds({{"field", "error"}, {"json", {{"offset", 4}}}}, failed_event(1)));  // already structured
  EXPECT_FALSE(holds({{"field", "missing"}, {"json", json::object()}}, cef_event(1)));
  // Nesting deeper than any audit record is not parsed.
  json deep = cef_event(1);
  deep["kuma"]["Extra"]["message"] = std::string(600, '[') + std::string(600, ']');
  EXPECT_FALSE(holds({{"field", "kuma.Extra.message"}, {"json", json::array()}}, deep));
}

TEST(ExpectLint, IdAndDetail) {
  const json event = cef_event(1);
  EXPECT_TRUE(holds({{"lint", "cef-version-1"}}, event));
  EXPECT_FALSE(holds({{"lint", "non-utf8"}}, event));
  EXPECT_TRUE(holds({{"lint", "cef-nonstandard-extension-keys"}, {"detail", "file,host,hostip,message,timestamp"}}, event));
  EXPECT_FALSE(holds({{"lint", "cef-nonstandard-extension-keys"}, {"detail", "file"}}, event));
  EXPECT_FALSE(holds({{"lint", "cef-version-1"}, {"detail", ""}}, event));  // no detail is not an empty one
  EXPECT_FALSE(holds({{"lint", "cef-version-1"}}, failed_event(1)));
  EXPECT_EQ(failure({{"lint", "non-utf8"}}, cef_event(7)),
            R"(every[0]: lints are ["cef-version-1","cef-nonstandard-extension-keys"], expected lint "non-utf8")");
  EXPECT_EQ(failure({{"lint", "cef-version-1"}, {"detail", "x"}}, cef_event(7)),
            R"(every[0]: lints are [{"id":"cef-version-1"},{"detail":"file,host,hostip,message,timestamp",)"
            R"("id":"cef-nonstandard-extension-keys"}], expected lint "cef-version-1" with detail "x")");
}

TEST(ExpectNot, Negates) {
  EXPECT_TRUE(holds({{"not", {{"field", "kuma.Severity"}, {"equals", "1"}}}}, cef_event(1)));
  EXPECT_FALSE(holds({{"not", {{"lint", "cef-version-1"}}}}, cef_event(1)));
  EXPECT_TRUE(holds({{"not", {{"not", {{"lint", "cef-version-1"}}}}}}, cef_event(1)));
  EXPECT_TRUE(holds({{"not", {{"field", "absent"}, {"equals", 1}}}}, cef_event(1)));  // missing fails equals
  EXPECT_EQ(failure({{"not", {{"field", "kuma.Severity"}, {"equals", "5"}}}}, cef_event(7)),
            R"(every[0]: kuma.Severity is "5", expected not equals "5")");
  EXPECT_EQ(failure({{"not", {{"not", {{"field", "format"}, {"equals", "json"}}}}}}, cef_event(7)),
            R"(every[0]: format is "cef", expected not not equals "json")");
}

// ------------------------------------------------------------- paths

TEST(ExpectPath, EscapedDotsArraysAndDeadEnds) {
  const json event = cef_event(1);
  EXPECT_TRUE(holds({{"field", R"(kuma.Extra.label\.team)"}, {"equals", "platform"}}, event));
  EXPECT_FALSE(holds({{"field", "kuma.Extra.label.team"}, {"exists", true}}, event));
  EXPECT_TRUE(holds({{"field", "lints.0.id"}, {"equals", "cef-version-1"}}, event));
  EXPECT_TRUE(holds({{"field", "lints.1.detail"}, {"regex", "hostip"}}, event));
  EXPECT_FALSE(holds({{"field", "lints.2.id"}, {"exists", true}}, event));
  EXPECT_FALSE(holds({{"field", "lints.x"}, {"exists", true}}, event));
  EXPECT_FALSE(holds({{"field", "lints.-1"}, {"exists", true}}, event));
  EXPECT_FALSE(holds({{"field", "size.0"}, {"exists", true}}, event));       // into a number
  EXPECT_FALSE(holds({{"field", "raw.length"}, {"exists", true}}, event));   // into a string
  json keyed = event;
  keyed["fields"]["0"] = "zero";  // numeric steps are keys in objects
  EXPECT_TRUE(holds({{"field", "fields.0"}, {"equals", "zero"}}, keyed));
}

TEST(ExpectPath, EventsOfAnyShapeAreSafe) {
  Evaluation evaluation(compiled({{"expectations",
                                   {{{"where", {{"field", "a.b"}, {"exists", true}}}, {"count", {{"eq", 0}}}},
                                    {{"every", {{"lint", "non-utf8"}}}, {"none", {{"field", "0"}, {"json", 1}}}}}}}));
  for (const json& odd : {json(), json("text"), json::array({1, 2}), json{{"a", 1}}, json{{"lints", "x"}}}) {
    EXPECT_NO_THROW(evaluation.observe(odd));
  }
  EXPECT_TRUE(evaluation.result()["expectations"][0]["pass"].get<bool>());
  EXPECT_FALSE(evaluation.result()["expectations"][1]["pass"].get<bool>());
  EXPECT_NO_THROW(static_cast<void>(evaluation.result().dump()));
}

// ------------------------------------------------------------- count and quantifiers

TEST(ExpectCount, Bounds) {
  const std::vector<json> three = {cef_event(1), cef_event(2), cef_event(3)};
  EXPECT_TRUE(evaluate({{"count", {{"eq", 3}}}}, three)["pass"].get<bool>());
  EXPECT_FALSE(evaluate({{"count", {{"eq", 2}}}}, three)["pass"].get<bool>());
  EXPECT_TRUE(evaluate({{"count", {{"min", 3}}}}, three)["pass"].get<bool>());
  EXPECT_FALSE(evaluate({{"count", {{"min", 4}}}}, three)["pass"].get<bool>());
  EXPECT_TRUE(evaluate({{"count", {{"max", 3}}}}, three)["pass"].get<bool>());
  EXPECT_FALSE(evaluate({{"count", {{"max", 2}}}}, three)["pass"].get<bool>());
  EXPECT_TRUE(evaluate({{"count", {{"min", 1}, {"max", 3}}}}, three)["pass"].get<bool>());
  EXPECT_TRUE(evaluate({{"count", {{"eq", 0}}}}, {})["pass"].get<bool>());
  const json result = evaluate({{"count", {{"min", 4}, {"max", 9}}}}, three);
  EXPECT_EQ(result["expectations"][0]["message"], "count: 3 selected, expected min 4, max 9");
  EXPECT_EQ(result["expectations"][0]["selected"], 3);
  EXPECT_TRUE(result["expectations"][0]["failing"].empty());
}

TEST(ExpectCount, PerListenerWithWhere) {
  const std::vector<json> events = {cef_event(1), cef_event(2, "5", "other"), failed_event(3), cef_event(4)};
  const json body = {{"expectations",
                      {{{"name", "kuma"}, {"where", {{{"field", "listener"}, {"equals", "kuma"}}}}, {"count", {{"eq", 2}}}},
                       {{"name", "other"}, {"where", {{"field", "listener"}, {"equals", "other"}}}, {"count", {{"eq", 1}}}},
                       {{"name", "all"}, {"where", json::array()}, {"count", {{"eq", 4}}}},
                       {{"name", "decoded cef from kuma"},
                        {"where", {{{"field", "listener"}, {"equals", "kuma"}}, {{"field", "ok"}, {"equals", true}}}},
                        {"count", {{"eq", 2}}}}}}};
  const json result = evaluate(body, events);
  EXPECT_TRUE(result["pass"].get<bool>()) << result.dump(2);
  EXPECT_EQ(result["observed"], 4);
  EXPECT_EQ(result["expectations"][0]["name"], "kuma");
  EXPECT_EQ(result["expectations"][1]["selected"], 1);
}

TEST(ExpectQuantifiers, EverySomeNoneOnEvents) {
  const std::vector<json> events = {cef_event(1), cef_event(2, "7"), cef_event(3)};
  const json sev5 = {{"field", "kuma.Severity"}, {"equals", "5"}};
  const json sev7 = {{"field", "kuma.Severity"}, {"equals", "7"}};
  const json sev9 = {{"field", "kuma.Severity"}, {"equals", "9"}};
  EXPECT_FALSE(evaluate({{"every", {sev5}}}, events)["pass"].get<bool>());
  EXPECT_TRUE(evaluate({{"some", {sev7}}}, events)["pass"].get<bool>());
  EXPECT_FALSE(evaluate({{"some", {sev9}}}, events)["pass"].get<bool>());
  EXPECT_TRUE(evaluate({{"none", {sev9}}}, events)["pass"].get<bool>());
  EXPECT_FALSE(evaluate({{"none", {sev7}}}, events)["pass"].get<bool>());
  EXPECT_TRUE(evaluate({{"every", {{{"lint", "cef-version-1"}}, {{"field", "ok"}, {"equals", true}}}}}, events)["pass"].get<bool>());
}

TEST(ExpectQuantifiers, NoneAndSomeTakeTheMatchersTogether) {
  const std::vector<json> events = {cef_event(1, "5", "kuma"), cef_event(2, "7", "other")};
  const json kuma = {{"field", "listener"}, {"equals", "kuma"}};
  const json sev7 = {{"field", "kuma.Severity"}, {"equals", "7"}};
  EXPECT_TRUE(evaluate({{"none", {kuma, sev7}}}, events)["pass"].get<bool>());   // no event is both
  EXPECT_FALSE(evaluate({{"some", {kuma, sev7}}}, events)["pass"].get<bool>());
  const json result = evaluate({{"none", {{{"field", "listener"}, {"equals", "other"}}, sev7}}}, events);
  EXPECT_EQ(result["expectations"][0]["message"],
            R"(none: 1 of 2 selected events match, first event 2: none[0]: listener is "other", matching equals "other"; )"
            R"(none[1]: kuma.Severity is "7", matching equals "7")");
}

TEST(ExpectQuantifiers, EmptySelection) {
  const json nothing = {{"field", "listener"}, {"equals", "nobody"}};
  const json any = {{"field", "id"}, {"exists", true}};
  const std::vector<json> events = {cef_event(1)};
  EXPECT_TRUE(evaluate({{"where", {nothing}}, {"every", {any}}}, events)["pass"].get<bool>());
  EXPECT_TRUE(evaluate({{"where", {nothing}}, {"none", {any}}}, events)["pass"].get<bool>());
  const json result = evaluate({{"where", {nothing}}, {"some", {any}}}, events);
  EXPECT_FALSE(result["pass"].get<bool>());
  EXPECT_EQ(result["expectations"][0]["message"], "some: no event selected");
  EXPECT_TRUE(evaluate({{"every", {any}}}, {})["pass"].get<bool>());
  EXPECT_FALSE(evaluate({{"some", {any}}}, {})["pass"].get<bool>());
}

TEST(ExpectQuantifiers, AllChecksOfOneExpectationMustHold) {
  const json body = {{"count", {{"eq", 2}}}, {"every", {{"lint", "cef-version-1"}}}, {"some", {{"field", "id"}, {"equals", 2}}}};
  EXPECT_TRUE(evaluate(body, {cef_event(1), cef_event(2)})["pass"].get<bool>());
  EXPECT_FALSE(evaluate(body, {cef_event(1), cef_event(3)})["pass"].get<bool>());
  EXPECT_FALSE(evaluate(body, {cef_event(1), cef_event(2), cef_event(3)})["pass"].get<bool>());
}

// ------------------------------------------------------------- results

TEST(ExpectResult, FailureReportNamesMatcherEventActualAndExpected) {
  const json body = {{"name", "severity mapped"}, {"every", {{{"field", "ok"}, {"equals", true}}, {{"field", "kuma.Severity"}, {"equals", "1"}}}}};
  const json result = evaluate(body, {cef_event(7), cef_event(8, "1")});
  const json& e = result["expectations"][0];
  EXPECT_FALSE(result["pass"].get<bool>());
  EXPECT_EQ(e["name"], "severity mapped");
  EXPECT_FALSE(e["pass"].get<bool>());
  EXPECT_EQ(e["selected"], 2);
  EXPECT_EQ(e["message"], R"(every: 1 of 2 selected events fail, first event 7: every[1]: kuma.Severity is "5", expected equals "1")");
  ASSERT_EQ(e["failing"].size(), 1u);
  EXPECT_EQ(e["failing"][0]["id"], 7);
  EXPECT_EQ(e["failing"][0]["position"], 1);
  EXPECT_EQ(e["failing"][0]["reason"], R"(every[1]: kuma.Severity is "5", expected equals "1")");
  EXPECT_EQ(e["failing"][0]["event"]["kuma"]["Severity"], "5");
}

TEST(ExpectResult, EveryFailingMatcherOfAnEventIsReported) {
  const json body = {{"every", {{{"field", "format"}, {"equals", "json"}}, {{"field", "ok"}, {"equals", true}}, {{"lint", "non-utf8"}}}}};
  EXPECT_EQ(reason(body, {cef_event(1)}),
            R"(every[0]: format is "cef", expected equals "json"; )"
            R"(every[2]: lints are ["cef-version-1","cef-nonstandard-extension-keys"], expected lint "non-utf8")");
}

TEST(ExpectResult, PassingExpectationHasEmptyMessage) {
  const json result = evaluate({{"name", "n"}, {"count", {{"min", 1}}}}, {cef_event(1)});
  EXPECT_EQ(result["expectations"][0]["message"], "");
  EXPECT_TRUE(result["expectations"][0]["failing"].empty());
  const json unnamed = evaluate({{"count", {{"min", 1}}}}, {cef_event(1)});
  EXPECT_FALSE(unnamed["expectations"][0].contains("name"));
}

TEST(ExpectResult, SomeReportsTheEventsThatMissed) {
  const json body = {{"some", {{"field", "kuma.Severity"}, {"equals", "9"}}}};
  const json result = evaluate(body, {cef_event(1), cef_event(2)});
  const json& e = result["expectations"][0];
  EXPECT_EQ(e["message"], R"(some: none of 2 selected events matches, first event 1: some[0]: kuma.Severity is "5", expected equals "9")");
  ASSERT_EQ(e["failing"].size(), 2u);
  EXPECT_EQ(e["failing"][1]["id"], 2);
  // Once an event matches, the misses are no failure.
  const json found = evaluate(body, {cef_event(1), cef_event(2, "9"), cef_event(3)});
  EXPECT_TRUE(found["pass"].get<bool>());
  EXPECT_TRUE(found["expectations"][0]["failing"].empty());
}

TEST(ExpectResult, AnEventFailingSeveralChecksIsReportedOnce) {
  const json body = {{"every", {{"field", "ok"}, {"equals", true}}}, {"some", {{"field", "id"}, {"equals", 99}}}};
  const json result = evaluate(body, {failed_event(4)});
  const json& failing = result["expectations"][0]["failing"];
  ASSERT_EQ(failing.size(), 1u);
  EXPECT_EQ(failing[0]["reason"], R"(every[0]: ok is false, expected equals true; some[0]: id is 4, expected equals 99)");
}

TEST(ExpectResult, FailingEventsAreCappedAtTen) {
  std::vector<json> events;
  for (int i = 1; i <= 25; ++i) events.push_back(cef_event(i));
  const json result = evaluate({{"every", {{"field", "kuma.Severity"}, {"equals", "1"}}}}, events);
  const json& e = result["expectations"][0];
  ASSERT_EQ(e["failing"].size(), 10u);
  EXPECT_EQ(e["failing"][0]["id"], 1);
  EXPECT_EQ(e["failing"][9]["id"], 10);
  EXPECT_EQ(e["selected"], 25);
  EXPECT_TRUE(e["message"].get<std::string>().starts_with("every: 25 of 25 selected events fail, first event 1: "));
}

TEST(ExpectResult, SampleEventsHaveLongStringsCutAndStayValidUtf8) {
  json event = cef_event(1);
  event["raw"] = std::string(5000, 'x') + "\xff";
  event["kuma"]["Extra"]["note"] = std::string(1023, 'a') + "é";  // the cut falls inside "é"
  event.erase("id");
  const json result = evaluate({{"every", {{"field", "ok"}, {"equals", false}}}}, {event});
  const json& sample = result["expectations"][0]["failing"][0];
  EXPECT_FALSE(sample.contains("id"));
  EXPECT_EQ(sample["event"]["raw"], std::string(1024, 'x') + "… (5001 bytes)");
  EXPECT_EQ(sample["event"]["kuma"]["Extra"]["note"], std::string(1023, 'a') + "… (1025 bytes)");
  EXPECT_EQ(result["expectations"][0]["message"], "every: 1 of 1 selected events fail, first event #1: every[0]: ok is true, expected equals false");
}

TEST(ExpectResult, LongValuesAreCutInReasons) {
  const std::string text = reason({{"every", {{"field", "raw"}, {"regex", "^x"}}}}, {cef_event(1)});
  EXPECT_LT(text.size(), 260u);
  EXPECT_NE(text.find("… ("), std::string::npos) << text;
}

// ------------------------------------------------------------- early decision

TEST(ExpectDecided, EveryViolatedDecidesFail) {
  Evaluation evaluation(compiled({{"every", {{"field", "kuma.Severity"}, {"equals", "5"}}}}));
  evaluation.observe(cef_event(1));
  EXPECT_FALSE(evaluation.decided());  // a later event may still violate it
  EXPECT_TRUE(evaluation.pass());
  evaluation.observe(cef_event(2, "8"));
  EXPECT_TRUE(evaluation.decided());
  EXPECT_FALSE(evaluation.pass());
  evaluation.observe(cef_event(3));
  EXPECT_TRUE(evaluation.decided());
  EXPECT_FALSE(evaluation.pass());
  EXPECT_TRUE(evaluation.result()["decided"].get<bool>());
}

TEST(ExpectDecided, NoneViolatedDecidesFail) {
  Evaluation evaluation(compiled({{"none", {{"field", "ok"}, {"equals", false}}}}));
  evaluation.observe(cef_event(1));
  EXPECT_FALSE(evaluation.decided());
  evaluation.observe(failed_event(2));
  EXPECT_TRUE(evaluation.decided());
  EXPECT_FALSE(evaluation.pass());
}

TEST(ExpectDecided, CountMaxOrEqExceededDecidesFail) {
  for (const char* bound : {"max", "eq"}) {
    Evaluation evaluation(compiled({{"count", {{bound, 2}}}}));
    evaluation.observe(cef_event(1));
    evaluation.observe(cef_event(2));
    EXPECT_FALSE(evaluation.decided()) << bound;
    EXPECT_TRUE(evaluation.pass()) << bound;
    evaluation.observe(cef_event(3));
    EXPECT_TRUE(evaluation.decided()) << bound;
    EXPECT_FALSE(evaluation.pass()) << bound;
  }
}

TEST(ExpectDecided, MinAndSomeDecidePassWhenReached) {
  Evaluation evaluation(compiled({{"expectations",
                                   {{{"count", {{"min", 2}}}},
                                    {{"some", {{"field", "kuma.Severity"}, {"equals", "9"}}}}}}}));
  evaluation.observe(cef_event(1, "9"));
  EXPECT_FALSE(evaluation.decided());
  EXPECT_FALSE(evaluation.pass());
  EXPECT_TRUE(evaluation.result()["expectations"][1]["decided"].get<bool>());
  evaluation.observe(cef_event(2));
  EXPECT_TRUE(evaluation.decided());
  EXPECT_TRUE(evaluation.pass());
}

TEST(ExpectDecided, OneFailureDecidesTheWhole) {
  Evaluation evaluation(compiled({{"expectations",
                                   {{{"some", {{"field", "id"}, {"equals", 100}}}},
                                    {{"none", {{"lint", "non-utf8"}}}},
                                    {{"count", {{"max", 0}}}, {"where", {{"field", "ok"}, {"equals", false}}}}}}}));
  evaluation.observe(cef_event(1));
  EXPECT_FALSE(evaluation.decided());
  evaluation.observe(failed_event(2));
  EXPECT_TRUE(evaluation.decided());
  const json result = evaluation.result();
  EXPECT_FALSE(result["expectations"][0]["decided"].get<bool>());
  EXPECT_FALSE(result["expectations"][1]["decided"].get<bool>());
  EXPECT_TRUE(result["expectations"][2]["decided"].get<bool>());
  EXPECT_EQ(result["expectations"][2]["message"], "count: 1 selected, expected max 0");
}

TEST(ExpectDecided, ExpectationsAreSharedBetweenEvaluations) {
  const Expectations expectations = compiled({{"every", {{"field", "raw"}, {"regex", "^CEF:1"}}}});
  Evaluation a(expectations), b(expectations);
  a.observe(cef_event(1));
  b.observe(failed_event(2));
  EXPECT_TRUE(a.pass());
  EXPECT_FALSE(b.pass());
  Evaluation moved = std::move(b);
  EXPECT_FALSE(moved.pass());
  EXPECT_EQ(expectations.size(), 1u);
}

// ------------------------------------------------------------- validation

TEST(ExpectParse, BodyForms) {
  const json e = {{"count", {{"min", 0}}}};
  EXPECT_EQ(std::get<Expectations>(parse({{"expectations", {e, e}}})).size(), 2u);
  EXPECT_EQ(std::get<Expectations>(parse(json::array({e, e, e}))).size(), 3u);
  EXPECT_EQ(std::get<Expectations>(parse(e)).size(), 1u);
  EXPECT_EQ(error_of("text"), R"(body: expected an object or a list, got "text")");
  EXPECT_EQ(error_of({{"expectations", {e}}, {"timeout", 3}}), R"(body: unknown key "timeout" next to "expectations")");
  EXPECT_EQ(error_of({{"expectations", e}}), R"(body: "expectations" must be a list, got {"count":{"min":0}})");
  EXPECT_EQ(error_of({{"expectations", json::array()}}), "expectations: empty list: give at least one expectation");
  EXPECT_EQ(error_of(json::array({e, 3})), "expectations[1]: expected an expectation object, got 3");
}

TEST(ExpectParse, ExpectationErrors) {
  EXPECT_EQ(error_of({{"evry", json::array()}}),
            R"(expectations[0]: unknown key "evry": expected name, where, count, every, none or some)");
  EXPECT_EQ(error_of({{"name", "x"}}), "expectations[0]: nothing to check: give count, every, none or some");
  EXPECT_EQ(error_of({{"where", {{"field", "ok"}, {"exists", true}}}}),
            "expectations[0]: nothing to check: give count, every, none or some");
  EXPECT_EQ(error_of({{"name", 3}, {"count", {{"min", 1}}}}), R"(expectations[0]: "name" must be a string, got 3)");
  EXPECT_EQ(error_of({{"every", json::array()}}), "expectations[0].every: empty list: give at least one matcher");
  EXPECT_EQ(error_of({{"none", json::array()}}), "expectations[0].none: empty list: give at least one matcher");
  EXPECT_EQ(error_of({{"some", "x"}}), R"(expectations[0].some: expected a list of matchers, got "x")");
  EXPECT_EQ(error_of({{"every", {1}}}), "expectations[0].every[0]: expected a matcher object, got 1");
}

TEST(ExpectParse, CountErrors) {
  EXPECT_EQ(error_of({{"count", 3}}), "expectations[0].count: expected an object with eq, min or max, got 3");
  EXPECT_EQ(error_of({{"count", json::object()}}), "expectations[0].count: empty: give eq, min or max");
  EXPECT_EQ(error_of({{"count", {{"least", 1}}}}), R"(expectations[0].count: unknown key "least": expected eq, min or max)");
  EXPECT_EQ(error_of({{"count", {{"min", -1}}}}), R"(expectations[0].count: "min" must be a non-negative integer, got -1)");
  EXPECT_EQ(error_of({{"count", {{"eq", 1.5}}}}), R"(expectations[0].count: "eq" must be a non-negative integer, got 1.5)");
  EXPECT_EQ(error_of({{"count", {{"max", "3"}}}}), R"(expectations[0].count: "max" must be a non-negative integer, got "3")");
  EXPECT_EQ(error_of({{"count", {{"min", 3}, {"max", 2}}}}), "expectations[0].count: min is greater than max: min 3, max 2");
  EXPECT_EQ(error_of({{"count", {{"eq", 5}, {"max", 2}}}}), "expectations[0].count: eq is outside min..max: eq 5, max 2");
  EXPECT_EQ(error_of(json::parse(R"({"count":{"eq":3}})")), "(parsed)");  // parsed literals are unsigned
}

TEST(ExpectParse, MatcherErrors) {
  const auto every = [](const json& matcher) {
    return error_of({{"every", {{{"field", "ok"}, {"exists", true}}, matcher}}});
  };
  EXPECT_EQ(every({{"field", "raw"}, {"regx", "a"}}), R"(expectations[0].every[1]: unknown predicate "regx")");
  EXPECT_EQ(every({{"field", "raw"}, {"equals", "a"}, {"regex", "a"}}),
            R"(expectations[0].every[1]: two predicates "equals" and "regex": a matcher takes one (lt, le, gt, ge, ne combine))");
  EXPECT_EQ(every({{"field", "size"}, {"gt", 1}, {"json", 1}}),
            R"(expectations[0].every[1]: two predicates "gt" and "json": a matcher takes one (lt, le, gt, ge, ne combine))");
  EXPECT_EQ(every({{"field", "raw"}}),
            "expectations[0].every[1]: no predicate: give one of equals, regex, exists, json, lt, le, gt, ge, ne");
  EXPECT_EQ(every({{"equals", 1}}), R"(expectations[0].every[1]: missing "field")");
  EXPECT_EQ(every({{"field", 1}, {"equals", 1}}), R"(expectations[0].every[1]: "field" must be a string, got 1)");
  EXPECT_EQ(every({{"field", ""}, {"equals", 1}}), R"(expectations[0].every[1]: "field" has an empty step: "")");
  EXPECT_EQ(every({{"field", "kuma..Severity"}, {"equals", 1}}),
            R"(expectations[0].every[1]: "field" has an empty step: "kuma..Severity")");
  EXPECT_EQ(every({{"field", "ok"}, {"exists", "yes"}}), R"(expectations[0].every[1]: "exists" must be true or false, got "yes")");
  EXPECT_EQ(every({{"field", "size"}, {"lt", "3"}}), R"(expectations[0].every[1]: "lt" must be a number, got "3")");
  EXPECT_EQ(every({{"field", "raw"}, {"regex", 3}}), R"(expectations[0].every[1]: "regex" must be a string, got 3)");
  EXPECT_EQ(every({{"field", "raw"}, {"detail", "x"}}), R"(expectations[0].every[1]: "detail" goes with "lint")");
}

TEST(ExpectParse, LintAndNotErrors) {
  EXPECT_EQ(error_of({{"none", {{"lint", "cef-version-2"}}}}), R"(expectations[0].none: unknown lint "cef-version-2")");
  EXPECT_EQ(error_of({{"none", {{{"lint", 1}}}}}), R"(expectations[0].none[0]: "lint" must be a string, got 1)");
  EXPECT_EQ(error_of({{"none", {{{"lint", "non-utf8"}, {"detail", 2}}}}}), R"(expectations[0].none[0]: "detail" must be a string, got 2)");
  EXPECT_EQ(error_of({{"none", {{{"lint", "non-utf8"}, {"field", "x"}}}}}),
            R"(expectations[0].none[0]: unknown key "field" in a lint matcher: it takes lint and detail)");
  EXPECT_EQ(error_of({{"some", {{{"not", {{"field", "x"}, {"exsts", true}}}}}}}),
            R"(expectations[0].some[0].not: unknown predicate "exsts")");
  EXPECT_EQ(error_of({{"some", {{{"not", {{"field", "x"}, {"exists", true}}}, {"field", "y"}}}}}),
            R"(expectations[0].some[0]: "not" takes no other key, got "field")");
  EXPECT_EQ(error_of({{"some", {{{"not", 1}}}}}), "expectations[0].some[0].not: expected a matcher object, got 1");
  json deep = {{"field", "x"}, {"exists", true}};
  for (int i = 0; i < 70; ++i) deep = {{"not", deep}};
  EXPECT_NE(error_of({{"every", deep}}).find("\"not\" nested too deeply"), std::string::npos);
}

TEST(ExpectParse, DeepValuesAreRejected) {
  json deep = 1;
  for (int i = 0; i < 100; ++i) deep = json::array({deep});
  EXPECT_EQ(error_of({{"every", {{"field", "x"}, {"equals", deep}}}}),
            R"(expectations[0].every: "equals" value nested deeper than 64 levels)");
}

TEST(ExpectParse, ErrorAsJson) {
  auto parsed = parse({{"every", {{"field", "raw"}, {"regx", "a"}}}});
  ASSERT_TRUE(std::holds_alternative<ParseError>(parsed));
  const json error = std::get<ParseError>(parsed).as_json();
  EXPECT_EQ(error["error"], R"(expectations[0].every: unknown predicate "regx")");
  EXPECT_EQ(error["where"], "expectations[0].every");
  EXPECT_EQ(error["message"], R"(unknown predicate "regx")");
}

TEST(Selector, HoldsWhenEveryMatcherHolds) {
  const auto parsed = Selector::parse(json::parse(R"([{"field":"userAgent","regex":"^kubelet"},{"field":"verb","equals":"get"}])"), "select");
  ASSERT_TRUE(std::holds_alternative<Selector>(parsed));
  const auto& selector = std::get<Selector>(parsed);
  EXPECT_TRUE(selector.matches(json::parse(R"({"userAgent":"kubelet/v1.29","verb":"get"})")));
  EXPECT_FALSE(selector.matches(json::parse(R"({"userAgent":"kubelet/v1.29","verb":"list"})")));
  EXPECT_FALSE(selector.matches(json::parse(R"("not an object")")));
  const auto bad = Selector::parse(json::parse(R"([{"field":"verb","equal":"get"}])"), "select");
  ASSERT_TRUE(std::holds_alternative<ParseError>(bad));
  EXPECT_EQ(std::get<ParseError>(bad).text(), R"(select[0]: unknown predicate "equal")");
}

}  // namespace
}  // namespace kumasim::expect
