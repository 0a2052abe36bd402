#include "shipper/pipeline/extra_labels.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>

namespace kumasim::shipper {
namespace {

using value_t = nlohmann::json::value_t;

nlohmann::json parsed(std::string message) { return parse_message(nlohmann::json{{"message", std::move(message)}}); }

ExtraLabels compiled(const std::map<std::string, std::string>& labels) {
  auto result = ExtraLabels::compile(labels);
  if (auto* error = std::get_if<ExtraLabels::Error>(&result)) {
    ADD_FAILURE() << error->key << ": " << error->code << ": " << error->message;
    return std::get<ExtraLabels>(ExtraLabels::compile({}));
  }
  return std::get<ExtraLabels>(std::move(result));
}

ExtraLabels::Error compile_error(const std::map<std::string, std::string>& labels) {
  auto result = ExtraLabels::compile(labels);
  if (auto* error = std::get_if<ExtraLabels::Error>(&result)) return *error;
  ADD_FAILURE() << "compiled";
  return {};
}

nlohmann::json applied(const std::map<std::string, std::string>& labels, const std::string& message) {
  nlohmann::json event = {{"host", "master-0"}, {"message", message}, {"source_type", "file"}};
  compiled(labels).apply(event);
  return event;
}

// The audit line L of §13.
const std::string kAuditLine =
    R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"4d2c6a0e-1b7f-4c51-9a3e-2f0d8b6c7e11",)"
    R"("stage":"ResponseComplete","requestURI":"/api/v1/nodes/master-0?timeout=10s","verb":"get",)"
    R"("user":{"username":"system:node:master-0"},"userAgent":"kubelet/v1.29.4 (linux/amd64) kubernetes/55019c8",)"
    R"("responseStatus":{"metadata":{},"code":200}})";

// ------------------------------------------------------------- parse_message

TEST(ParseMessage, AnyJsonValueOrTheRawString) {
  EXPECT_EQ(parsed(kAuditLine)["user"]["username"], "system:node:master-0");
  EXPECT_EQ(parsed(R"("hello")"), "hello");
  EXPECT_EQ(parsed("42"), 42);
  EXPECT_EQ(parsed("[true,null]").dump(), "[true,null]");
  EXPECT_TRUE(parsed("null").is_null());
  EXPECT_EQ(parsed("plain text"), "plain text");
  EXPECT_EQ(parsed(""), "");
  EXPECT_EQ(parsed("{} x"), "{} x");
  EXPECT_EQ(parsed("{\"a\":1}\r").dump(), R"({"a":1})");  // a kept CR is JSON whitespace
}

TEST(ParseMessage, RepeatedKeyKeepsTheLastValue) { EXPECT_EQ(parsed(R"({"a":1,"a":2})").dump(), R"({"a":2})"); }

TEST(ParseMessage, IntegersInInt64StayIntegersOthersBecomeFloats) {
  const nlohmann::json n = parsed(R"([9223372036854775807,9223372036854775808,-9223372036854775808,)"
                                  R"(18446744073709551616,1.0,1e2,-0,0,-0.5,"-0"])");
  EXPECT_EQ(n[0].type(), value_t::number_integer);
  EXPECT_EQ(n[0].get<std::int64_t>(), 9223372036854775807);
  EXPECT_EQ(n[1].type(), value_t::number_float);
  EXPECT_EQ(n[1].get<double>(), 9223372036854775808.0);
  EXPECT_EQ(n[2].type(), value_t::number_integer);
  EXPECT_EQ(n[3].type(), value_t::number_float);
  EXPECT_EQ(n[4].type(), value_t::number_float);
  EXPECT_EQ(n[5].type(), value_t::number_float);
  // serde_json reads `-0` as the float -0.0.
  EXPECT_EQ(n[6].type(), value_t::number_float);
  EXPECT_TRUE(std::signbit(n[6].get<double>()));
  EXPECT_EQ(n[7].type(), value_t::number_integer);
  EXPECT_EQ(n[8].get<double>(), -0.5);
  EXPECT_EQ(n[9], "-0");
  EXPECT_EQ(parsed("-0").type(), value_t::number_float);
}

TEST(ParseMessage, WhatSerdeJsonRejectsStaysRaw) {
  EXPECT_EQ(parsed("\xEF\xBB\xBF{}"), "\xEF\xBB\xBF{}");  // BOM: VRL 0.21 does not strip it
  EXPECT_EQ(parsed("[1e400]"), "[1e400]");                 // overflows to infinity
  const std::string deep_ok = std::string(127, '[') + std::string(127, ']');
  const std::string too_deep = std::string(128, '[') + std::string(128, ']');
  EXPECT_TRUE(parsed(deep_ok).is_array());
  EXPECT_EQ(parsed(too_deep), too_deep);  // serde_json's recursion limit
}

TEST(ParseMessage, InvalidUtf8IsRepairedBeforeParsing) {
  // parse_json's lossy default (VRL 0.18+): the string gets U+FFFD.
  EXPECT_EQ(parsed("{\"a\":\"x\xFFy\"}")["a"], "x\xEF\xBF\xBDy");
  // A message that still does not parse is kept as its original bytes.
  EXPECT_EQ(parsed("not \xFF json"), "not \xFF json");
}

TEST(ParseMessage, MissingOrNonStringMessage) {
  EXPECT_TRUE(parse_message(nlohmann::json{{"host", "x"}}).is_null());
  EXPECT_EQ(parse_message(nlohmann::json{{"message", 5}}), 5);  // `.parsed_data = .message`
  EXPECT_EQ(parse_message(nlohmann::json{{"message", {{"k", "v"}}}}).dump(), R"({"k":"v"})");
}

// ------------------------------------------------------------- extraLabels

TEST(ExtraLabels, StaticValuesAreStringsNestedByDots) {
  nlohmann::json event = {{"file", "/var/log/kube-audit/audit.log"}, {"host", "master-0"}, {"message", kAuditLine}};
  compiled({{"cef.name", "d8"}, {"cef.severity", "1"}}).apply(event);
  EXPECT_EQ(event["cef"]["severity"], "1");
  EXPECT_EQ(event["cef"]["severity"].type(), value_t::string);
  event.erase("parsed_data");  // as the pipeline does before encoding
  EXPECT_EQ(event.dump().substr(0, 44), R"({"cef":{"name":"d8","severity":"1"},"file":")");
}

TEST(ExtraLabels, TemplatesReadParsedDataWithDkpPaths) {
  const std::string message =
      R"({"pay.lo":[0,1,2,{"te.st":"found"}],"X-Check":7,"user":{"username":"alice"},"nn":null,)"
      R"("ff":1.5,"bb":false,"arr":[1,"x"],"obj":{"k":"v"}})";
  const nlohmann::json event = applied({{"dotted", R"({{ pay\.lo[3].te\.st }})"},
                                        {"check", "{{ X-Check }}"},
                                        {"who", "{{ user.username }}"},
                                        {"absent", "{{ user.uid }}"},
                                        {"null_label", "{{ nn }}"},
                                        {"float_label", "{{ ff }}"},
                                        {"bool_label", "{{ bb }}"},
                                        {"array_label", "{{ arr }}"},
                                        {"object_label", "{{ obj }}"},
                                        {"whole", "{{ parsed_data.user }}"}},
                                       message);
  EXPECT_EQ(event["dotted"], "found");
  EXPECT_EQ(event["check"], 7);
  EXPECT_EQ(event["check"].type(), value_t::number_integer);
  EXPECT_EQ(event["who"], "alice");
  EXPECT_FALSE(event.contains("absent"));  // a missing path sets nothing
  ASSERT_TRUE(event.contains("null_label"));
  EXPECT_TRUE(event["null_label"].is_null());
  EXPECT_EQ(event["float_label"].type(), value_t::number_float);
  EXPECT_EQ(event["bool_label"], false);
  EXPECT_EQ(event["array_label"].dump(), R"([1,"x"])");
  EXPECT_EQ(event["object_label"].dump(), R"({"k":"v"})");
  EXPECT_EQ(event["whole"].dump(), R"({"username":"alice"})");
}

TEST(ExtraLabels, TemplatesReadTheParsedMessageNotTopLevelFields) {
  const nlohmann::json event = applied({{"copy", "{{ host }}"}}, kAuditLine);  // no `host` in the audit record
  EXPECT_FALSE(event.contains("copy"));
  const nlohmann::json plain = applied({{"raw", "{{ parsed_data }}"}, {"sub", "{{ x.y }}"}}, "not json");
  EXPECT_EQ(plain["raw"], "not json");
  EXPECT_FALSE(plain.contains("sub"));
}

TEST(ExtraLabels, AssignmentsOverwriteFields) {
  const nlohmann::json event = applied({{"host", "{{ user.username }}"}, {"message", "replaced"}}, kAuditLine);
  EXPECT_EQ(event["host"], "system:node:master-0");
  EXPECT_EQ(event["message"], "replaced");
  EXPECT_EQ(event["parsed_data"]["verb"], "get");  // parsed before the message was replaced
}

TEST(ExtraLabels, OverlappingPathsApplyInByteOrder) {
  // "a" < "a.b": the nested assignment replaces the scalar with an object (§16.8).
  EXPECT_EQ(applied({{"a", "x"}, {"a.b", "y"}}, "{}")["a"].dump(), R"({"b":"y"})");
  // "a.b" < "a.c" < "a1": siblings accumulate.
  EXPECT_EQ(applied({{"a.c", "2"}, {"a.b", "1"}}, "{}")["a"].dump(), R"({"b":"1","c":"2"})");
  // "v" < "v.w": a template scalar is replaced the same way.
  EXPECT_EQ(applied({{"v", "{{ nn }}"}, {"v.w", "z"}}, R"({"nn":5})")["v"].dump(), R"({"w":"z"})");
}

TEST(ExtraLabels, ADashKeyIsOneField) {
  const nlohmann::json event = applied({{"X-Check", "abc"}, {"key9.with-dots", "v"}}, "{}");
  EXPECT_EQ(event["X-Check"], "abc");
  EXPECT_EQ(event["key9.with-dots"], "v");
  EXPECT_FALSE(event.contains("key9"));
}

TEST(ExtraLabels, LaterTemplatesSeeEarlierWritesUnderParsedData) {
  // "parsed_data.zz" is not a forbidden key (only "parsed_data" is) and sorts before "zzz".
  const nlohmann::json event = applied({{"parsed_data.zz", "written"}, {"zzz", "{{ zz }}"}}, "{}");
  EXPECT_EQ(event["zzz"], "written");
}

TEST(ExtraLabels, ExistingParsedDataIsNotRecreated) {
  nlohmann::json event = {{"message", R"({"kk":"from message"})"}, {"parsed_data", {{"kk", "from logFilter"}}}};
  compiled({{"label", "{{ kk }}"}}).apply(event);
  EXPECT_EQ(event["label"], "from logFilter");
}

TEST(ExtraLabels, InvalidLabelsAreNamed) {
  const auto expect_error = [](const std::map<std::string, std::string>& labels, const std::string& key,
                               const std::string& code) {
    const ExtraLabels::Error error = compile_error(labels);
    EXPECT_EQ(error.key, key);
    EXPECT_EQ(error.code, code) << error.message;
  };
  expect_error({{"pod", "x"}}, "pod", "extralabel-key-forbidden");
  expect_error({{"parsed_data", "x"}}, "parsed_data", "extralabel-key-forbidden");
  expect_error({{"a b", "x"}}, "a b", "extralabel-key-invalid");
  expect_error({{"a..b", "x"}}, "a..b", "extralabel-key-invalid");
  expect_error({{"a.0", "x"}}, "a.0", "extralabel-key-invalid");
  expect_error({{"ok", "x"}, {"v", "a b"}}, "v", "extralabel-value-invalid");
  expect_error({{"v", "dot.ted"}}, "v", "extralabel-value-invalid");
  expect_error({{"v", "{{ a }}"}}, "v", "extralabel-value-invalid");   // path shorter than 2
  expect_error({{"v", "{{a.b}}"}}, "v", "extralabel-value-invalid");   // spaces required
  expect_error({{"v", "{{ -ab }}"}}, "v", "extralabel-value-invalid"); // CRD accepts, DKP's VRL does not
  expect_error({{"v", "{{ a..b }}"}}, "v", "extralabel-value-invalid");
  expect_error({{"v", ""}}, "v", "extralabel-value-invalid");
}

TEST(ExtraLabels, EmptyKeysAreSkippedAsDkpDoes) {
  EXPECT_TRUE(compiled({}).empty());
  EXPECT_TRUE(compiled({{"", "x"}}).empty());
  EXPECT_FALSE(compiled({{"a", "x"}}).empty());
}

}  // namespace
}  // namespace kumasim::shipper
