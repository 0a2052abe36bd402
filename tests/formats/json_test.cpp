#include "formats/json.h"
#include "support/test_data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <sstream>

namespace kumasim::formats::json {
namespace {

std::string encoded(const nlohmann::json& value) {
  std::string out;
  encode(value, out);
  return out;
}

std::string encoded_double(double value) {
  std::string out;
  encode_double(value, out);
  return out;
}

// The kubelet audit line L of dkp-log-shipper.md §13.
const std::string kAuditLine = kumasim::testing::read_file("fixtures/wire/dkp-gen-c-tcp.json");

TEST(JsonEncode, SortsKeysByteWiseAtEveryLevel) {
  const auto value = nlohmann::json::parse(R"({"b":1,"a":{"z":true,"_":null,"Z":[{"y":1,"x":2}]},"\u00e9":0,"B":2})");
  EXPECT_EQ(encoded(value), "{\"B\":2,\"a\":{\"Z\":[{\"x\":2,\"y\":1}],\"_\":null,\"z\":true},\"b\":1,\"\xC3\xA9\":0}");
}

TEST(JsonEncode, EscapesLikeSerdeJson) {
  EXPECT_EQ(encoded(std::string("q\" b\\ \b\t\n\f\r \x01\x1f\x7f /")),
            "\"q\\\" b\\\\ \\b\\t\\n\\f\\r \\u0001\\u001f\x7f /\"");
  EXPECT_EQ(encoded(std::string("\xE2\x80\xA8 \xF0\x9F\x98\x80")), "\"\xE2\x80\xA8 \xF0\x9F\x98\x80\"");
}

TEST(JsonEncode, ReplacesInvalidUtf8PerMaximalSubpart) {
  // from_utf8_lossy: "\xF0\x9F\x98" (truncated 4-byte) is one U+FFFD; "\xC0" and "\xFF" one each;
  // a surrogate "\xED\xA0\x80" is three.
  EXPECT_EQ(encoded(std::string("a\xF0\x9F\x98z")), "\"a\xEF\xBF\xBDz\"");
  EXPECT_EQ(encoded(std::string("\xC0\xFF")), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(encoded(std::string("\xED\xA0\x80")), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  EXPECT_EQ(encoded(std::string("\xE2\x82")), "\"\xEF\xBF\xBD\"");
}

TEST(JsonEncode, NumbersAsSerdeJson) {
  EXPECT_EQ(encoded(nlohmann::json::parse("[0,-7,18446744073709551615,9223372036854775807]")),
            "[0,-7,18446744073709551615,9223372036854775807]");
  EXPECT_EQ(encoded_double(1.0), "1.0");
  EXPECT_EQ(encoded_double(1.5), "1.5");
  EXPECT_EQ(encoded_double(-0.0), "-0.0");
  EXPECT_EQ(encoded_double(0.1), "0.1");
  EXPECT_EQ(encoded_double(100.0), "100.0");
  EXPECT_EQ(encoded_double(1736925630.13), "1736925630.13");
  EXPECT_EQ(encoded_double(1e15), "1000000000000000.0");
  EXPECT_EQ(encoded_double(1e16), "1e16");
  EXPECT_EQ(encoded_double(1.5e17), "1.5e17");
  EXPECT_EQ(encoded_double(0.0001), "0.0001");
  EXPECT_EQ(encoded_double(0.00001), "0.00001");
  EXPECT_EQ(encoded_double(0.000001), "1e-6");
  EXPECT_EQ(encoded_double(1.25e-7), "1.25e-7");
  EXPECT_EQ(encoded_double(123456.789), "123456.789");
  EXPECT_EQ(encoded_double(std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonEncode, ReproducesTheDkpEnvelopeByteForByte) {
  // dkp-log-shipper.md §13: gen-c JSON for the kubelet line L.
  const std::string expected = kAuditLine.substr(0, kAuditLine.size() - 1);  // without the LF
  auto envelope = nlohmann::json::parse(expected);
  const std::string audit = envelope["message"];
  nlohmann::json event{{"timestamp", "2025-01-15T10:20:30.130512345+03:00"}, {"source_type", "file"},
                       {"message", audit},  {"host_ip", "10.0.0.5"},
                       {"host", "master-0"}, {"file", "/var/log/kube-audit/audit.log"}};
  EXPECT_EQ(encoded(event), expected);
  event["cef"] = {{"name", "d8"}, {"severity", "1"}};
  EXPECT_EQ(encoded(event).rfind(R"({"cef":{"name":"d8","severity":"1"},"file":)", 0), 0u);
}

TEST(JsonEncode, RandomValuesRoundTrip) {
  std::mt19937 rng(20261126);
  const std::string alphabet[] = {"a", " ", "=", "\\", "|", "]", "\"", "\n", "\t", "\x01", "\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "/"};
  for (int round = 0; round < 500; ++round) {
    nlohmann::json object = nlohmann::json::object();
    for (int k = 0; k < 4; ++k) {
      std::string key, value;
      for (int i = 0; i < 6; ++i) key += alphabet[rng() % std::size(alphabet)];
      for (int i = 0; i < 12; ++i) value += alphabet[rng() % std::size(alphabet)];
      object[key] = value;
      object[key + "n"] = static_cast<std::int64_t>(rng()) - 2147483647;
      object[key + "f"] = static_cast<double>(rng()) / 1024.0;
    }
    const std::string text = encoded(object);
    EXPECT_EQ(nlohmann::json::parse(text), object) << text;
  }
}

TEST(JsonDecode, ReadsTheEnvelopeAndTheNestedAuditEvent) {
  EnvelopeDecoder decoder;
  Envelope envelope;
  ASSERT_FALSE(decoder.decode(kAuditLine, envelope));
  EXPECT_EQ(envelope.file, "/var/log/kube-audit/audit.log");
  EXPECT_EQ(envelope.host, "master-0");
  EXPECT_EQ(envelope.host_ip, "10.0.0.5");
  EXPECT_EQ(envelope.source_type, "file");
  EXPECT_EQ(envelope.timestamp, "2025-01-15T10:20:30.130512345+03:00");
  EXPECT_EQ(envelope.message.substr(0, 17), R"({"kind":"Event",")");
  ASSERT_TRUE(envelope.message_is_object);
  EXPECT_EQ(envelope.audit.kind, "Event");
  EXPECT_EQ(envelope.audit.api_version, "audit.k8s.io/v1");
  EXPECT_EQ(envelope.audit.level, "Metadata");
  EXPECT_EQ(envelope.audit.audit_id, "4d2c6a0e-1b7f-4c51-9a3e-2f0d8b6c7e11");
  EXPECT_EQ(envelope.audit.stage, "ResponseComplete");
  EXPECT_EQ(envelope.audit.request_uri, "/api/v1/nodes/master-0?timeout=10s");
  EXPECT_EQ(envelope.audit.verb, "get");
  EXPECT_EQ(envelope.audit.username, "system:node:master-0");
  EXPECT_EQ(envelope.audit.user_agent, "kubelet/v1.29.4 (linux/amd64) kubernetes/55019c8");
  EXPECT_EQ(envelope.audit.response_code, 200);
}

TEST(JsonDecode, AMessageThatIsNotJsonIsStillAValidEnvelope) {
  EnvelopeDecoder decoder;
  Envelope envelope;
  ASSERT_FALSE(decoder.decode(R"({"message":"plain text","host":"n"})", envelope));
  EXPECT_EQ(envelope.message, "plain text");
  EXPECT_FALSE(envelope.message_is_object);
  EXPECT_EQ(envelope.audit.response_code, -1);
}

TEST(JsonDecode, RecordedAuditLogsDecodeAsObjects) {
  EnvelopeDecoder decoder;
  Envelope envelope;
  for (const char* file : {"fixtures/audit/audit2rbac-demo.log", "fixtures/audit/falco-k8s-audit-trace-files.log",
                           "fixtures/audit/sysdiglabs-aks-audit-log.log"}) {
    std::istringstream lines(kumasim::testing::read_file(file));
    std::string line;
    int count = 0;
    while (std::getline(lines, line)) {
      ASSERT_FALSE(decoder.decode(line, envelope)) << file << " line " << count + 1;
      ++count;
    }
    EXPECT_GT(count, 20) << file;
  }
}

TEST(JsonDecode, SyntaxErrorsNameTheByteOffset) {
  EnvelopeDecoder decoder;
  Envelope envelope;
  const auto err = decoder.decode(R"({"a": tru})", envelope);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->offset, 9u);  // the '}' where "true" was expected to go on
  EXPECT_EQ(err->reason, "invalid JSON");
  ASSERT_TRUE(decoder.decode("", envelope));
  const auto huge = decoder.decode(R"({"n":4e6161})", envelope);  // found by fuzz_json: must not throw
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->reason, "JSON number out of range");
  ASSERT_TRUE(decoder.decode("{\"a\":\"\xFF\"}", envelope));  // invalid UTF-8 inside a string
}

TEST(JsonDecode, IntegersBeyond64BitsAreValidJson) {
  // RFC 8259 allows them; serde_json (and so Vector) reads them as floats.
  EnvelopeDecoder decoder;
  Envelope envelope;
  ASSERT_FALSE(decoder.decode(R"({"host":"n","big":100000000000000000000})", envelope));
  EXPECT_EQ(envelope.host, "n");
  ASSERT_FALSE(decoder.decode(R"({"message":"{\"verb\":\"get\",\"n\":-99999999999999999999}"})", envelope));
  EXPECT_TRUE(envelope.message_is_object);
  EXPECT_EQ(envelope.audit.verb, "get");
}

TEST(JsonDecode, NonObjectsAreRejected) {
  EnvelopeDecoder decoder;
  Envelope envelope;
  for (const char* text : {"[1]", "\"s\"", "3", "null"}) {
    const auto err = decoder.decode(text, envelope);
    ASSERT_TRUE(err) << text;
    EXPECT_EQ(err->reason, "not a JSON object");
  }
}

TEST(JsonKumaView, FlattensLeavesIntoExtra) {
  const auto view = kuma_view(nlohmann::json::parse(R"({"a":{"b":"x","c":[1,{"d":null}]},"n":2.5,"t":true,"e":{}})"));
  const std::map<std::string, std::string> expected{
      {"a.b", "x"}, {"a.c.0", "1"}, {"a.c.1.d", "null"}, {"n", "2.5"}, {"t", "true"}, {"e", "{}"}};
  EXPECT_EQ(view.extra, expected);
  EXPECT_TRUE(view.fields.empty());
  EXPECT_FALSE(view.raw);
}

TEST(JsonKumaView, AnEmptyObjectHasNoExtra) {
  EXPECT_TRUE(kuma_view(nlohmann::json::object()).extra.empty());
}

TEST(JsonKumaView, MappingTableFillsFieldsAndTheRestGoesToExtra) {
  const auto audit = nlohmann::json::parse(
      R"({"user":{"username":"bob","groups":["a"]},"verb":"get","annotations":{"authorization.k8s.io/decision":"allow"},)"
      R"("responseStatus":{"code":403}})");
  const JsonNormalizerConfig config{{{"user.username", "SourceUserName"},
                                     {"verb", "RequestMethod"},
                                     {"annotations.authorization\\.k8s\\.io/decision", "DeviceAction"},
                                     {"responseStatus.code", "DeviceCustomNumber1"},
                                     {"missing.path", "Message"}},
                                    {}};
  const auto view = kuma_view(audit, config);
  const std::map<std::string, std::string> fields{
      {"SourceUserName", "bob"}, {"RequestMethod", "get"}, {"DeviceAction", "allow"}, {"DeviceCustomNumber1", "403"}};
  EXPECT_EQ(view.fields, fields);
  EXPECT_EQ(view.extra, (std::map<std::string, std::string>{{"user.groups.0", "a"}}));
}

TEST(JsonKumaView, ParseNestedThenMapThroughTheDkpMessage) {
  const auto envelope = nlohmann::json::parse(kAuditLine);
  const auto view = kuma_view(envelope, {{{"message.user.username", "SourceUserName"}}, {"message"}});
  EXPECT_EQ(view.fields.at("SourceUserName"), "system:node:master-0");
  EXPECT_EQ(view.extra.count("message.user.username"), 0u);
}

TEST(JsonKumaView, TheDkpMessageStaysAStringUnlessParseNestedAsksOtherwise) {
  const auto envelope = nlohmann::json::parse(kAuditLine);
  const auto plain = kuma_view(envelope);
  EXPECT_EQ(plain.extra.count("message.user.username"), 0u);
  EXPECT_EQ(plain.extra.at("message").substr(0, 8), R"({"kind":)");
  const auto nested = kuma_view(envelope, {{}, {"message"}});
  EXPECT_EQ(nested.extra.at("message.user.username"), "system:node:master-0");
  EXPECT_EQ(nested.extra.at("message.responseStatus.code"), "200");
  EXPECT_EQ(nested.extra.at("host_ip"), "10.0.0.5");
}

}  // namespace
}  // namespace kumasim::formats::json
