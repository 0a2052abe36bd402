// DKP's CEF step and Vector's CEF encoder: dkp-log-shipper.md §10.3, §12, §13.
#include "formats/cef.h"

#include "support/test_data.h"

#include "support/dkp_example.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace kumasim::formats::cef {
namespace {

using nlohmann::json;
using Map = std::vector<std::pair<std::string, std::string>>;

const std::string kHeader = "CEF:1|Deckhouse|log-shipper-agent|1|Log event|";

// §13 inputs: gen-c, node master-0, host IP 10.0.0.5, UTC+03:00.
const std::string& kAudit = kumasim::testing::kAuditLine;
const std::string& kTimestamp = kumasim::testing::kReadTimestamp;
using kumasim::testing::gen_b_event;
using kumasim::testing::gen_c_event;

std::string escaped_audit() {
  std::string s = kAudit;
  s.replace(s.find("timeout=10s"), 11, "timeout\\=10s");  // only this '=' is escaped
  return s;
}

// The shipper's steps 9-11 for one event: CEF step, then the encoder.
std::string ship(json event, const EncoderConfig& cfg) {
  apply_cef_step(event);
  std::string out = "stale";
  const auto err = encode(event, cfg, out);
  EXPECT_FALSE(err);
  return out;
}

// The line for an event whose only fields are cef.name and cef.severity.
std::optional<EncodeError> encode_header(const json& name, const json& severity, std::string& out) {
  const json event = {{"cef", {{"name", name}, {"severity", severity}}}};
  return encode(event, EncoderConfig{}, out);
}

// The single extension "v" for a value of any type ("" when omitted).
std::string encoded_value(const json& value) {
  EncoderConfig cfg;
  cfg.extensions = {{"v", "v"}};
  json event = {{"v", value}};
  apply_cef_step(event);
  std::string out;
  EXPECT_FALSE(encode(event, cfg, out));
  const std::string prefix = kHeader + "Deckhouse Event|5";
  EXPECT_EQ(out.substr(0, prefix.size()), prefix);
  const std::string rest = out.substr(prefix.size());
  return rest.empty() ? "" : rest.substr(std::string("|v=").size());
}

// ------------------------------------------------------------- §13 examples

TEST(CefEncode, WorkedExampleGenC) {
  const std::string expected = kHeader + "Deckhouse Event|5|file=/var/log/kube-audit/audit.log host=master-0 "
                               "hostip=10.0.0.5 message=" + escaped_audit() + " timestamp=" + kTimestamp;
  EXPECT_EQ(ship(gen_c_event(), config_for_profile("gen-c", {})), expected);
}

TEST(CefEncode, WorkedExampleGenCWithExtraLabels) {
  json event = gen_c_event();
  event["cef"] = {{"name", "d8"}, {"severity", "1"}};  // extraLabels {cef.name: d8, cef.severity: "1"}
  const std::string expected = kHeader + "d8|1|cefname=d8 cefseverity=1 file=/var/log/kube-audit/audit.log "
                               "host=master-0 hostip=10.0.0.5 message=" + escaped_audit() + " timestamp=" + kTimestamp;
  EXPECT_EQ(ship(event, config_for_profile("gen-c", {"cef.name", "cef.severity"})), expected);
}

TEST(CefEncode, WorkedExampleGenBAndGenA) {
  const std::string expected = kHeader + "Deckhouse Event|5|host=log-shipper-agent-7xk2p message=" + escaped_audit() +
                               " timestamp=" + kTimestamp;
  EXPECT_EQ(ship(gen_b_event(), config_for_profile("gen-b", {})), expected);
  EXPECT_EQ(ship(gen_b_event(), config_for_profile("gen-a", {})), expected);
}

TEST(CefEncode, DeckhouseVectorsByteForByte) {
  std::map<std::string, std::string> inputs;
  for (const json& row : testing::read_jsonl("tests/data/vectors/cef.jsonl")) inputs[row["id"]] = row["input"];
  const EncoderConfig gen_b = config_for_profile("gen-b", {});

  const json basic = {{"host", "node-1"}, {"message", "hello world"}, {"node", "node-1"},
                      {"timestamp", "2024-01-02T03:04:05.678Z"}, {"cef", {{"severity", "1"}}}};
  EXPECT_EQ(ship(basic, gen_b), inputs.at("deckhouse-cef1-basic"));

  const json audit = {{"message", R"({"kind":"Event","verb":"get","requestURI":"/api/v1/pods?limit=500"})"},
                      {"namespace", "kube-system"}, {"cef", {{"name", "d8"}, {"severity", "1"}}}};
  EXPECT_EQ(ship(audit, gen_b), inputs.at("deckhouse-cef1-escaped-json-message"));

  const json newline = {{"message", "panic: boom\ngoroutine 1 [running]"}, {"node", "node-1"},
                        {"cef", {{"name", "d8"}, {"severity", "1"}}}};
  EXPECT_EQ(ship(newline, gen_b), inputs.at("deckhouse-cef1-raw-newline"));
}

TEST(CefEncode, VectorSerializeExtensionsTest) {
  // Vector's own unit test, apart from its default header (CEF:0, Datadog, Telemetry Event).
  std::string vector_line;
  for (const json& row : testing::read_jsonl("tests/data/vectors/cef.jsonl"))
    if (row["id"] == "vector-encoder-serialize_extensions") vector_line = row["input"];
  const std::string marker = "|Event name|1|";
  ASSERT_NE(vector_line.find(marker), std::string::npos);
  EncoderConfig cfg{"Datadog", "Vector", "0", {}};
  for (const char* key : {"bool", "comma", "float", "foo", "int", "quote", "space", "time", "empty"})
    cfg.extensions.emplace_back(key, key);
  const json event = {{"cef", {{"severity", 1}, {"name", "Event name"}}}, {"foo", "bar"}, {"int", 123},
                      {"comma", "abc,bcd"}, {"float", 3.1415925}, {"space", "sp ace"}, {"bool", true},
                      {"time", "2023-02-27T07:04:49.363Z"}, {"quote", "the \"quote\" should be escaped"},
                      {"empty", ""}};
  std::string out;
  ASSERT_FALSE(encode(event, cfg, out));
  EXPECT_EQ(out.substr(0, out.find(marker)), "CEF:1|Datadog|Vector|0|Log event");
  EXPECT_EQ(out.substr(out.find(marker)), vector_line.substr(vector_line.find(marker)));
}

// ------------------------------------------------------------- header

TEST(CefEncode, HeaderEscapingOfConfiguredFields) {
  EncoderConfig cfg{"De|ck\\house", "p=x y", "1|2", {}};
  json event = json::object();
  EXPECT_EQ(ship(event, cfg), R"(CEF:1|De\|ck\\house|p=x y|1\|2|Log event|Deckhouse Event|5)");
}

TEST(CefEncode, SeverityKept) {
  const std::vector<std::pair<json, std::string>> kept = {
      {"05", "5"}, {"+7", "7"}, {10, "10"}, {0, "0"}, {"0", "0"}, {"10", "10"}, {"010", "10"},
      {3.0, "3"}, {json(7u), "7"}, {"+0", "0"}};
  for (const auto& [severity, printed] : kept) {
    SCOPED_TRACE(severity.dump());
    std::string out;
    ASSERT_FALSE(encode_header("n", severity, out));
    EXPECT_EQ(out, kHeader + "n|" + printed);
  }
}

TEST(CefEncode, SeverityDropped) {
  const std::vector<json> dropped = {"info", "warning", "Warn", "3.0", 11, "11", -1, "-1", " 3", "3 ", "", nullptr, "+",
                                     "-0", "256", "1000", 3.5, true, json::array({1}), json::object(), 255, "0x1"};
  for (const json& severity : dropped) {
    SCOPED_TRACE(severity.dump());
    std::string out = "stale";
    EXPECT_EQ(encode_header("n", severity, out), EncodeError::severity_invalid);
    EXPECT_TRUE(out.empty());
  }
  std::string out;
  EXPECT_EQ(encode(json::object(), EncoderConfig{}, out), EncodeError::severity_invalid);  // no CEF step
}

TEST(CefEncode, SeverityWordMapping) {
  const std::vector<std::pair<std::string, std::string>> words = {
      {"Debug", "0"}, {"Informational", "3"}, {"Notice", "4"}, {"Warning", "6"},
      {"Error", "7"}, {"Critical", "8"}, {"Emergency", "10"}};
  for (const auto& [word, number] : words) {
    SCOPED_TRACE(word);
    json event = {{"cef", {{"severity", word}}}};
    apply_cef_step(event);
    EXPECT_EQ(event["cef"]["severity"], number);
    EXPECT_EQ(ship({{"cef", {{"severity", word}}}}, EncoderConfig{}), kHeader + "Deckhouse Event|" + number);
  }
  // Exact and case-sensitive: anything else is left alone (and then dropped by the encoder).
  for (const std::string other : {"debug", "WARNING", "Info", "Alert", "Warning ", "Err"}) {
    SCOPED_TRACE(other);
    json event = {{"cef", {{"severity", other}}}};
    apply_cef_step(event);
    EXPECT_EQ(event["cef"]["severity"], other);
    std::string out;
    EXPECT_EQ(encode(event, EncoderConfig{}, out), EncodeError::severity_invalid);
  }
  json number = {{"cef", {{"severity", 6}}}};
  apply_cef_step(number);
  EXPECT_EQ(number["cef"]["severity"], 6);
}

TEST(CefEncode, CefStepDefaults) {
  json event = {{"message", "m"}};
  apply_cef_step(event);
  EXPECT_EQ(event["cef"], json({{"name", "Deckhouse Event"}, {"severity", "5"}}));
  EXPECT_EQ(event["message"], "m");

  json named = {{"cef", {{"name", "d8"}}}};
  apply_cef_step(named);
  EXPECT_EQ(named["cef"], json({{"name", "d8"}, {"severity", "5"}}));

  json rated = {{"cef", {{"severity", "1"}}}};
  apply_cef_step(rated);
  EXPECT_EQ(rated["cef"], json({{"name", "Deckhouse Event"}, {"severity", "1"}}));

  // VRL's exists() is true for null: a null name stays and encodes as "".
  json null_name = {{"cef", {{"name", nullptr}, {"severity", 2}}}};
  apply_cef_step(null_name);
  EXPECT_TRUE(null_name["cef"]["name"].is_null());
  EXPECT_EQ(ship(null_name, EncoderConfig{}), kHeader + "|2");

  // A non-object `cef` is replaced by an object, as a VRL assignment below it does.
  json scalar = {{"cef", "x"}};
  apply_cef_step(scalar);
  EXPECT_EQ(scalar["cef"], json({{"name", "Deckhouse Event"}, {"severity", "5"}}));
}

TEST(CefEncode, NameLimitIs512BytesAfterEscaping) {
  std::string out;
  ASSERT_FALSE(encode_header(std::string(512, 'n'), "1", out));
  EXPECT_EQ(out, kHeader + std::string(512, 'n') + "|1");
  EXPECT_EQ(encode_header(std::string(513, 'n'), "1", out), EncodeError::name_too_long);
  EXPECT_TRUE(out.empty());
  ASSERT_FALSE(encode_header(std::string(510, 'n') + "|", "1", out));
  EXPECT_EQ(out, kHeader + std::string(510, 'n') + "\\||1");
  EXPECT_EQ(encode_header(std::string(511, 'n') + "|", "1", out), EncodeError::name_too_long);
  EXPECT_EQ(encode_header(std::string(511, 'n') + "\\", "1", out), EncodeError::name_too_long);
  EXPECT_EQ(encode_header(std::string(170, 'n') + std::string(114, '\xC3') + std::string(114, '\xA9'), "1", out),
            EncodeError::name_too_long);  // bytes, not characters: 170 + 228 would fit, the U+FFFDs do not
  std::string two_byte;
  for (int i = 0; i < 256; ++i) two_byte += "\xC3\xA9";
  EXPECT_FALSE(encode_header(two_byte, "1", out));
  EXPECT_EQ(encode_header(two_byte + "x", "1", out), EncodeError::name_too_long);
  // Severity is checked first.
  EXPECT_EQ(encode_header(std::string(600, 'n'), "11", out), EncodeError::severity_invalid);
}

TEST(CefEncode, NameConversions) {
  std::string out;
  ASSERT_FALSE(encode_header("", "1", out));
  EXPECT_EQ(out, kHeader + "|1");
  ASSERT_FALSE(encode_header(42, "1", out));
  EXPECT_EQ(out, kHeader + "42|1");
  ASSERT_FALSE(encode_header(json::object({{"a", 1}}), "1", out));
  EXPECT_EQ(out, kHeader + "|1");
  ASSERT_FALSE(encode_header("a=b c\\d", "1", out));
  EXPECT_EQ(out, kHeader + "a=b c\\\\d|1");
}

// ------------------------------------------------------------- extensions

TEST(CefEncode, NoExtensionsMeansNoTrailingPipe) {
  EXPECT_EQ(ship({{"message", ""}}, config_for_profile("gen-c", {})), kHeader + "Deckhouse Event|5");
  const std::string line = ship(json::object(), EncoderConfig{});
  EXPECT_EQ(line, kHeader + "Deckhouse Event|5");
  Event e;
  ASSERT_FALSE(decode(line, e));
  EXPECT_TRUE(e.missing_trailing_pipe);
}

TEST(CefEncode, ValueConversions) {
  EXPECT_EQ(encoded_value("text"), "text");
  EXPECT_EQ(encoded_value(123), "123");
  EXPECT_EQ(encoded_value(-5), "-5");
  EXPECT_EQ(encoded_value(json(18446744073709551615u)), "18446744073709551615");
  EXPECT_EQ(encoded_value(3.1415925), "3.1415925");
  EXPECT_EQ(encoded_value(5.0), "5");
  EXPECT_EQ(encoded_value(0.1), "0.1");
  EXPECT_EQ(encoded_value(1.5e-7), "0.00000015");
  EXPECT_EQ(encoded_value(1e20), "100000000000000000000");
  EXPECT_EQ(encoded_value(123456789.125), "123456789.125");
  EXPECT_EQ(encoded_value(-0.0), "-0");
  EXPECT_EQ(encoded_value(true), "true");
  EXPECT_EQ(encoded_value(false), "false");
  EXPECT_EQ(encoded_value(nullptr), "");
  EXPECT_EQ(encoded_value(""), "");
  EXPECT_EQ(encoded_value(json::array({"a"})), "");
  EXPECT_EQ(encoded_value(json::object({{"a", "b"}})), "");
}

TEST(CefEncode, ValueEscaping) {
  EXPECT_EQ(encoded_value(R"(a\b=c)"), R"(a\\b\=c)");
  EXPECT_EQ(encoded_value(R"(\=)"), R"(\\\=)");
  EXPECT_EQ(encoded_value("sp ace|pipe ]\"q\""), "sp ace|pipe ]\"q\"");
  EXPECT_EQ(encoded_value("cr\rlf\nend\r\n"), "cr\rlf\nend\r\n");  // raw: a multi-line event splits on \n
  EXPECT_EQ(encoded_value("\xFF ok \xE2\x82"), "\xEF\xBF\xBD ok \xEF\xBF\xBD");  // from_utf8_lossy
}

TEST(CefEncode, NonStringMessageIsOmitted) {
  json event = gen_c_event();
  event["message"] = {{"replaced", "by a label"}};
  const std::string line = ship(event, config_for_profile("gen-c", {}));
  EXPECT_EQ(line.find("message="), std::string::npos);
  EXPECT_NE(line.find("hostip=10.0.0.5 timestamp="), std::string::npos);
}

TEST(CefEncode, DottedPaths) {
  EncoderConfig cfg;
  cfg.extensions = {{"a", "cef.name"}, {"b", "x.y.z"}, {"c", "host.sub"}, {"d", "missing.deeper"}, {"e", "host_ip"}};
  const json event = {{"cef", {{"name", "N"}, {"severity", 1}}}, {"x", {{"y", {{"z", 7}}}}},
                      {"host", "h"}, {"host_ip", "10.0.0.5"}, {"x.y.z", "flat"}};
  std::string out;
  ASSERT_FALSE(encode(event, cfg, out));
  EXPECT_EQ(out, kHeader + "N|1|a=N b=7 e=10.0.0.5");
}

TEST(CefEncode, PairsSortAsWholeStrings) {
  EncoderConfig cfg;
  cfg.extensions = {{"b", "v"}, {"a", "v"}, {"a1", "v"}, {"ab", "v"}};
  std::string out;
  ASSERT_FALSE(encode({{"cef", {{"name", "n"}, {"severity", 1}}}, {"v", "x"}}, cfg, out));
  EXPECT_EQ(out, kHeader + "n|1|a1=x a=x ab=x b=x");  // '1' < '=' < 'b'
}

// ------------------------------------------------------------- profile maps

Map sorted(Map m) {
  std::sort(m.begin(), m.end());
  return m;
}

TEST(CefProfiles, GenC) {
  EXPECT_EQ(sorted(config_for_profile("gen-c", {}).extensions),
            (Map{{"file", "file"}, {"host", "host"}, {"hostip", "host_ip"}, {"message", "message"},
                 {"timestamp", "timestamp"}}));
  EXPECT_EQ(sorted(config_for_profile("gen-c", {"cef.severity", "cef.name", "env"}).extensions),
            (Map{{"cefname", "cef.name"}, {"cefseverity", "cef.severity"}, {"env", "env"}, {"file", "file"},
                 {"host", "host"}, {"hostip", "host_ip"}, {"message", "message"}, {"timestamp", "timestamp"}}));
}

TEST(CefProfiles, GenBAndGenA) {
  const Map base = {{"container", "container"}, {"host", "host"}, {"image", "image"}, {"message", "message"},
                    {"namespace", "namespace"}, {"node", "node"}, {"pod", "pod"}, {"podip", "pod_ip"},
                    {"podowner", "pod_owner"}, {"timestamp", "timestamp"}};
  EXPECT_EQ(sorted(config_for_profile("gen-b", {}).extensions), base);
  Map with_label = base;
  with_label.emplace_back("team", "team");
  EXPECT_EQ(sorted(config_for_profile("gen-b", {"team"}).extensions), sorted(with_label));
  EXPECT_EQ(sorted(config_for_profile("gen-a", {"team", "cef.name"}).extensions), base);  // a static list
  const EncoderConfig cfg = config_for_profile("gen-a", {});
  EXPECT_EQ(cfg.device_vendor, "Deckhouse");
  EXPECT_EQ(cfg.device_product, "log-shipper-agent");
  EXPECT_EQ(cfg.device_version, "1");
}

TEST(CefProfiles, ExtraLabelWinsACollision) {
  const Map m = config_for_profile("gen-c", {"Host"}).extensions;
  EXPECT_EQ(std::count_if(m.begin(), m.end(), [](const auto& e) { return e.first == "host"; }), 1);
  EXPECT_NE(std::find(m.begin(), m.end(), std::pair<std::string, std::string>{"host", "Host"}), m.end());
  json event = gen_c_event();
  event["Host"] = "label";
  EXPECT_NE(ship(event, config_for_profile("gen-c", {"Host"})).find(" host=label "), std::string::npos);
  // Between labels, the later in byte order wins: "a_b" < "ab".
  const Map two = config_for_profile("gen-c", {"ab", "a_b"}).extensions;
  EXPECT_NE(std::find(two.begin(), two.end(), std::pair<std::string, std::string>{"ab", "ab"}), two.end());
  EXPECT_EQ(std::count_if(two.begin(), two.end(), [](const auto& e) { return e.first == "ab"; }), 1);
}

TEST(CefProfiles, NormalizeAndUnknownProfile) {
  EXPECT_EQ(normalize_key("cef.severity"), "cefseverity");
  EXPECT_EQ(normalize_key("host_ip"), "hostip");
  EXPECT_EQ(normalize_key("env2"), "env2");
  EXPECT_EQ(normalize_key("X-Check"), "xcheck");
  EXPECT_EQ(normalize_key("\xC3\x9C" "ber"), "ber");
  EXPECT_THROW(config_for_profile("gen-d", {}), std::invalid_argument);
}

TEST(CefProfiles, VectorConfigChecks) {
  EXPECT_FALSE(config_error(config_for_profile("gen-c", {"cef.name", "cef.severity", "x-check"})));
  EXPECT_EQ(config_error(config_for_profile("gen-c", {"env2"})),
            "LogEvent extension keys can only contain ascii alphabetical characters: invalid key \"env2\"");
  EncoderConfig long_vendor;
  long_vendor.device_vendor = std::string(66, 'R');
  EXPECT_EQ(config_error(long_vendor), "LogEvent field \"device_vendor\" with the value \"" + std::string(66, 'R') +
                                           "\" exceed 63 characters limit: actual 66");
  EncoderConfig escaped_version;
  escaped_version.device_version = std::string(30, '1') + "|";  // 32 bytes once escaped
  EXPECT_TRUE(config_error(escaped_version));
  escaped_version.device_version = std::string(29, '1') + "|";
  EXPECT_FALSE(config_error(escaped_version));
}

// ------------------------------------------------------------- round trip

std::string rstrip_final(std::string v) {
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r' || v.back() == '\n')) v.pop_back();
  return v;
}

std::string random_text(std::mt19937& rng, const std::vector<std::string>& pieces, int max_pieces) {
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::uniform_int_distribution<int> count(0, max_pieces);
  std::string s;
  for (int n = count(rng); n > 0; --n) s += pieces[pick(rng)];
  return s;
}

// Encoded values come back exactly, apart from the final value, whose trailing
// SP/TAB/CR/LF the decoder trims (§5.6 step 4): LF and CR are sent raw, so only
// a trailing one is lost here; inside a value they survive (on a \n-delimited
// stream the frame would split there instead, see the raw-newline vector).
void round_trip(const std::vector<std::string>& pieces, unsigned seed) {
  std::mt19937 rng(seed);
  const std::vector<std::string> keys = {"alpha", "beta", "gamma", "delta", "k", "kk", "message", "zz"};
  for (int round = 0; round < 2000; ++round) {
    json event = json::object();
    EncoderConfig cfg;
    std::map<std::string, std::string> sent;
    for (const std::string& key : keys) {
      if (rng() % 3 == 0) continue;
      const std::string value = random_text(rng, pieces, 8);
      event[key] = value;
      cfg.extensions.emplace_back(key, key);
      if (!value.empty()) sent[key] = value;
    }
    const std::string name = random_text(rng, pieces, 4);
    event["cef"] = {{"name", name}, {"severity", std::to_string(rng() % 11)}};
    std::string line;
    ASSERT_FALSE(encode(event, cfg, line));
    Event e;
    const DecodeResult err = decode(line, e);
    ASSERT_FALSE(err) << line;
    EXPECT_EQ(e.value(HeaderField::name), name);
    std::map<std::string, std::string> got;
    for (const Extension& x : e.extensions) got[std::string(x.key)] = x.value();
    if (!sent.empty()) sent.rbegin()->second = rstrip_final(sent.rbegin()->second);
    ASSERT_EQ(got, sent) << line;
    Lints lints;
    add_lints(e, lints);
    for (const Lint& l : lints)
      EXPECT_TRUE(l.id == LintId::cef_version_1 || l.id == LintId::cef_nonstandard_extension_keys ||
                  (l.id == LintId::cef_missing_trailing_pipe && sent.empty()))
          << lint_info(l.id).name << " for " << line;
  }
}

TEST(CefRoundTrip, SpecialCharactersComeBack) {
  round_trip({"a", " ", "  ", "=", "\\", "\\\\", "|", "]", "\"", "\xC3\xA9", "\xE6\x97\xA5", "x=y", " k=v", "\\=",
              "\\n", "\\|", "CEF:0|", "\t"},
             20250115);
}

TEST(CefRoundTrip, RawCrLfInsideValuesSurviveTrailingOnesAreTrimmedOnlyAtTheEnd) {
  round_trip({"a", " ", "\n", "\r", "\r\n", "=", "\\", "b c"}, 7);
  Event e;
  EncoderConfig cfg;
  cfg.extensions = {{"a", "a"}, {"b", "b"}};
  std::string line;
  ASSERT_FALSE(encode({{"cef", {{"name", "n"}, {"severity", 1}}}, {"a", "x\r\n"}, {"b", "y\r\n"}}, cfg, line));
  EXPECT_EQ(line, kHeader + "n|1|a=x\r\n b=y\r\n");
  ASSERT_FALSE(decode(line, e));
  EXPECT_EQ(e.extensions.at(0).value(), "x\r\n");  // not the final value: kept
  EXPECT_EQ(e.extensions.at(1).value(), "y");      // the final value: trailing CR/LF trimmed
}

}  // namespace
}  // namespace kumasim::formats::cef
