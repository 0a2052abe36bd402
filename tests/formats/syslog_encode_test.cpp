// Syslog encoding: the DKP log-shipper line (dkp-log-shipper.md §10.4, §13)
// and the RFC 5424 encoder, with randomized round trips through the decoder.
#include "formats/syslog.h"

#include "support/dkp_example.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <deque>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace kumasim::formats::syslog {
namespace {

using nlohmann::json;

const std::string kBom = "\xEF\xBB\xBF";

const std::string& kAudit = kumasim::testing::kAuditLine;  // L of dkp-log-shipper.md §13
json audit_event() { return kumasim::testing::gen_c_event(); }  // the gen-c File event of §6.2 for L

std::string bytes_from_hex(const std::string& hex) {
  std::istringstream in(hex);
  std::string out;
  for (std::string byte; in >> byte;) out += static_cast<char>(std::stoi(byte, nullptr, 16));
  return out;
}

std::string header_of(const Encoded& e) { return e.line.substr(0, e.line.find(kBom)); }

// ----------------------------------------------------------- §13 example

TEST(SyslogDkpEncode, WorkedExampleOfSection13) {
  ASSERT_EQ(kAudit.size(), 355u);
  const Encoded e = encode_dkp(audit_event(), "master-0");
  EXPECT_FALSE(e.fell_back);
  EXPECT_EQ(e.line, "<14>1 2025-01-15T10:20:30.130512345+03:00 master-0 - - - - " + kBom + kAudit);
  const std::string prefix = bytes_from_hex(
      "3c 31 34 3e 31 20 32 30 32 35 2d 30 31 2d 31 35 54 31 30 3a 32 30 3a 33 30 2e 31 33 30 35 31 32 33 34 35 2b "
      "30 33 3a 30 30 20 6d 61 73 74 65 72 2d 30 20 2d 20 2d 20 2d 20 2d 20 ef bb bf");
  EXPECT_EQ(e.line, prefix + kAudit);
  EXPECT_EQ(e.line.find('\n'), std::string::npos);  // the framing LF is not part of the line
}

TEST(SyslogDkpEncode, WorkedExampleLabels) {
  json event = audit_event();
  event["syslog"]["severity"] = "alert";
  EXPECT_TRUE(encode_dkp(event, "master-0").line.starts_with("<9>1 2025-01-15T10:20:30.130512345+03:00 "));

  event["syslog"]["severity"] = "Info";
  const Encoded e = encode_dkp(event, "master-0");
  EXPECT_TRUE(e.fell_back);
  EXPECT_EQ(e.line, kAudit);  // L alone: no header, no BOM
}

// ------------------------------------------------------------- severity

TEST(SyslogDkpEncode, SeverityTable) {
  const std::vector<std::pair<std::string, int>> keywords = {
      {"emerg", 0}, {"panic", 0}, {"alert", 1}, {"crit", 2},   {"err", 3},   {"error", 3},
      {"warning", 4}, {"warn", 4}, {"notice", 5}, {"info", 6}, {"debug", 7}};
  for (const auto& [keyword, level] : keywords) {
    json event = {{"message", "m"}, {"timestamp", "t"}, {"syslog", {{"severity", keyword}}}};
    EXPECT_EQ(encode_dkp(event, "n").line, "<" + std::to_string(8 + level) + ">1 t n - - - - " + kBom + "m") << keyword;
  }
  // Absent, or not a string: 6, PRI 14.
  for (const json& event : {json{{"message", "m"}}, json{{"message", "m"}, {"syslog", {{"severity", 3}}}},
                            json{{"message", "m"}, {"syslog", {{"severity", nullptr}}}},
                            json{{"message", "m"}, {"syslog", {{"severity", true}}}},
                            json{{"message", "m"}, {"syslog", "not an object"}}}) {
    const Encoded e = encode_dkp(event, "n");
    EXPECT_FALSE(e.fell_back) << event;
    EXPECT_TRUE(e.line.starts_with("<14>1 ")) << event;
  }
  // Any other string: the program fails and the raw message goes out.
  for (const char* bad : {"Info", "3", "ERROR", "", "information", " info"}) {
    const Encoded e = encode_dkp({{"message", "raw line"}, {"syslog", {{"severity", bad}}}}, "n");
    EXPECT_TRUE(e.fell_back) << bad;
    EXPECT_EQ(e.line, "raw line") << bad;
  }
  // Fallback without a message: an empty payload.
  EXPECT_EQ(encode_dkp({{"syslog", {{"severity", "Info"}}}}, "n").line, "");
}

// ------------------------------------------------- header field choices

TEST(SyslogDkpEncode, HostnamePrecedence) {
  const json base = {{"message", "m"}, {"timestamp", "t"}};
  auto host_of = [&](json patch) {
    json event = base;
    event.merge_patch(patch);
    return header_of(encode_dkp(event, "node-1"));
  };
  EXPECT_EQ(host_of(json::object()), "<14>1 t node-1 - - - - ");
  EXPECT_EQ(host_of({{"host", "ignored"}}), "<14>1 t node-1 - - - - ");
  EXPECT_EQ(host_of({{"hostname", "h"}}), "<14>1 t h - - - - ");
  EXPECT_EQ(host_of({{"hostname", false}}), "<14>1 t node-1 - - - - ");
  EXPECT_EQ(host_of({{"hostname", ""}}), "<14>1 t  - - - - ");  // empty string is present: double space
  EXPECT_EQ(host_of({{"hostname", 42}}), "<14>1 t 42 - - - - ");
  EXPECT_EQ(host_of({{"hostname", "h"}, {"kubernetes", {{"pod_name", "pod"}}}}), "<14>1 t pod - - - - ");
  for (const json& bad : {json::object({{"a", 1}}), json::array({1})}) {
    json event = base;
    event["hostname"] = bad;
    const Encoded e = encode_dkp(event, "node-1");
    EXPECT_TRUE(e.fell_back);
    EXPECT_EQ(e.line, "m");
  }
  // A null hostname is absent (merge_patch would delete the key, so assign it).
  json event = base;
  event["hostname"] = nullptr;
  EXPECT_EQ(header_of(encode_dkp(event, "node-1")), "<14>1 t node-1 - - - - ");
}

TEST(SyslogDkpEncode, AppPrecedence) {
  auto app_of = [](json event) {
    event["message"] = "m";
    event["timestamp"] = "t";
    const Encoded e = encode_dkp(event, "n");
    return e.fell_back ? "FALLBACK" : header_of(e);
  };
  EXPECT_EQ(app_of(json::object()), "<14>1 t n - - - - ");
  EXPECT_EQ(app_of({{"syslog", {{"app", "s"}}}}), "<14>1 t n s - - - ");
  EXPECT_EQ(app_of({{"kubernetes", {{"labels", {{"app", "k"}}}}}, {"syslog", {{"app", "s"}}}}), "<14>1 t n k - - - ");
  EXPECT_EQ(app_of({{"app", "a"}, {"kubernetes", {{"labels", {{"app", "k"}}}}}, {"syslog", {{"app", "s"}}}}),
            "<14>1 t n a - - - ");
  EXPECT_EQ(app_of({{"app", false}, {"syslog", {{"app", "s"}}}}), "<14>1 t n s - - - ");
  EXPECT_EQ(app_of({{"app", nullptr}, {"syslog", {{"app", "s"}}}}), "<14>1 t n s - - - ");
  EXPECT_EQ(app_of({{"app", ""}}), "<14>1 t n  - - - ");
  EXPECT_EQ(app_of({{"app", 1.5}}), "<14>1 t n 1.5 - - - ");
  EXPECT_EQ(app_of({{"app", true}}), "<14>1 t n true - - - ");
  EXPECT_EQ(app_of({{"app", "a b"}}), "<14>1 t n a b - - - ");  // no escaping, no validation
  EXPECT_EQ(app_of({{"app", json::object()}}), "FALLBACK");
  EXPECT_EQ(app_of({{"syslog", {{"app", json::array()}}}}), "FALLBACK");
  // `||` stops at the first present value: a later object is never converted.
  EXPECT_EQ(app_of({{"app", "a"}, {"syslog", {{"app", json::array()}}}}), "<14>1 t n a - - - ");
}

TEST(SyslogDkpEncode, MsgidAndTimestamp) {
  auto header = [](json event) {
    event["message"] = "m";
    const Encoded e = encode_dkp(event, "n");
    return e.fell_back ? "FALLBACK" : header_of(e);
  };
  EXPECT_EQ(header({{"timestamp", "t"}, {"syslog", {{"message_id", "ID47"}}}}), "<14>1 t n - - ID47 - ");
  EXPECT_EQ(header({{"timestamp", "t"}, {"syslog", {{"message_id", 7}}}}), "<14>1 t n - - 7 - ");
  EXPECT_EQ(header({{"timestamp", "t"}, {"syslog", {{"message_id", ""}}}}), "<14>1 t n - -  - ");
  EXPECT_EQ(header({{"timestamp", "t"}, {"syslog", {{"message_id", json::array({1})}}}}), "FALLBACK");
  // The timestamp is converted with no `||`: absent gives an empty field.
  EXPECT_EQ(header(json::object()), "<14>1  n - - - - ");
  EXPECT_EQ(header({{"timestamp", 1736925630}}), "<14>1 1736925630 n - - - - ");
  EXPECT_EQ(header({{"timestamp", json::object()}}), "FALLBACK");
}

TEST(SyslogDkpEncode, ValuesToText) {
  auto app = [](json v) {
    const Encoded e = encode_dkp({{"message", "m"}, {"timestamp", "t"}, {"app", v}}, "n");
    const std::string h = header_of(e);
    return h.substr(10, h.size() - 10 - 7);  // between "<14>1 t n " and " - - - "
  };
  EXPECT_EQ(app(1.0), "1");
  EXPECT_EQ(app(0.1), "0.1");
  EXPECT_EQ(app(-2.5), "-2.5");
  EXPECT_EQ(app(1e21), "1000000000000000000000");
  EXPECT_EQ(app(1e-7), "0.0000001");
  EXPECT_EQ(app(-12), "-12");
  EXPECT_EQ(app(18446744073709551615ull), "18446744073709551615");
  EXPECT_EQ(app(false), "-");  // false is not present
}

// ----------------------------------------------------------------- MESSAGE

TEST(SyslogDkpEncode, MissingMessageSendsTheEventAsJson) {
  const json event = {{"timestamp", "t"}, {"host", "h"}, {"b", {{"y", 1}, {"x", "q\""}}}};
  const Encoded e = encode_dkp(event, "n");
  EXPECT_FALSE(e.fell_back);
  // encode_json(.) sees the event after the program set .syslog.severity; keys sorted.
  EXPECT_EQ(e.line, "<14>1 t n - - - - " + kBom + R"({"b":{"x":"q\"","y":1},"host":"h","syslog":{"severity":6},"timestamp":"t"})");

  json with_null = event;
  with_null["message"] = nullptr;
  with_null["syslog"]["severity"] = "warn";
  EXPECT_EQ(encode_dkp(with_null, "n").line,
            "<12>1 t n - - - - " + kBom + R"({"b":{"x":"q\"","y":1},"host":"h","message":null,"syslog":{"severity":4},"timestamp":"t"})");
}

TEST(SyslogDkpEncode, MessageValues) {
  const std::string raw = "line with\nLF, ü and \xFF";
  EXPECT_EQ(encode_dkp({{"message", raw}, {"timestamp", "t"}}, "n").line, "<14>1 t n - - - - " + kBom + raw);
  EXPECT_EQ(encode_dkp({{"message", 5}, {"timestamp", "t"}}, "n").line, "<14>1 t n - - - - " + kBom + "5");
  EXPECT_EQ(encode_dkp({{"message", ""}, {"timestamp", "t"}}, "n").line, "<14>1 t n - - - - " + kBom);
  // An object message (replaced by a label) cannot be converted: fallback, Text codec.
  const Encoded e = encode_dkp({{"message", {{"a", 1}}}, {"timestamp", "t"}}, "n");
  EXPECT_TRUE(e.fell_back);
  EXPECT_EQ(e.line, R"({"a":1})");
}

// ------------------------------------------------- DKP line => decoder

TEST(SyslogDkpEncode, DecodesBackLeniently) {
  std::mt19937 rng(1729);
  const std::vector<std::string> pieces = {"a", "Z", " ", "=", "\\", "]", "\"", "[", "\n", "\xC3\xBC", "\xE4\xB8\xAD", "{}", "-"};
  const std::vector<std::string> keywords = {"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"};
  const std::vector<std::string> fractions = {"", ".130", ".130512", ".130512345"};
  for (int i = 0; i < 500; ++i) {
    std::string message;
    for (std::size_t n = rng() % 20; n > 0; --n) message += pieces[rng() % pieces.size()];
    const std::string timestamp = "2025-01-15T10:20:30" + fractions[rng() % fractions.size()] + "+03:00";
    json event = {{"message", message}, {"timestamp", timestamp}};
    const int level = static_cast<int>(rng() % keywords.size());
    if (rng() % 2) event["syslog"]["severity"] = keywords[static_cast<std::size_t>(level)];
    if (rng() % 2) event["syslog"]["message_id"] = "ID" + std::to_string(rng() % 100);
    if (rng() % 2) event["app"] = "app-" + std::to_string(rng() % 100);
    if (rng() % 2) event["hostname"] = "host.example";
    const Encoded e = encode_dkp(event, "node-7");
    ASSERT_FALSE(e.fell_back);

    Message m;
    ASSERT_FALSE(parse(e.line, Mode::lenient, m)) << e.line;
    const json f = fields_json(m);
    EXPECT_EQ(f["msg"], message);
    EXPECT_TRUE(m.bom);
    EXPECT_EQ(m.facility, 1);
    EXPECT_EQ(m.severity, event.contains("syslog") && event["syslog"].contains("severity") ? level : 6);
    EXPECT_EQ(f["timestamp"], timestamp);
    EXPECT_EQ(f["hostname"], event.value("hostname", "node-7"));
    EXPECT_EQ(f["app_name"], event.contains("app") ? event["app"] : json(nullptr));
    EXPECT_EQ(f["msgid"], event.contains("syslog") && event["syslog"].contains("message_id") ? event["syslog"]["message_id"]
                                                                                            : json(nullptr));
    EXPECT_EQ(f["procid"], nullptr);
    EXPECT_EQ(f["structured_data"], nullptr);
    Lints lints;
    add_lints(m, lints);
    const bool long_fraction = timestamp.size() > 34;
    EXPECT_EQ(lints, long_fraction ? (Lints{{LintId::syslog_secfrac_over_6, ""}}) : Lints{});
    EXPECT_EQ(static_cast<bool>(parse(e.line, Mode::strict, m)), long_fraction);
  }
}

// ------------------------------------------------ RFC 5424 round trips

TEST(SyslogRfc5424Encode, EscapesParamValues) {
  Message m;
  m.pri = 165;
  m.hostname = "h";
  std::vector<Param> params = {{"a", R"(q"b\s]e)", false}, {"b", R"(pre\"escaped)", true}};
  m.params = params;
  m.sd = {{"x@1", 0, 2}};
  m.msg = "text";
  m.bom = true;
  EXPECT_EQ(encode_rfc5424(m), R"(<165>1 - h - - - [x@1 a="q\"b\\s\]e" b="pre\"escaped"] )" + kBom + "text");
  Message empty;
  EXPECT_EQ(encode_rfc5424(empty), "<13>1 - - - - - -");
}

// Random header text: 1..max PRINTUSASCII characters, never the NILVALUE alone.
std::string random_token(std::mt19937& rng, std::size_t max) {
  std::string s;
  for (std::size_t n = 1 + rng() % max; n > 0; --n) s += static_cast<char>(33 + rng() % 94);
  return s == "-" ? "x" : s;
}

std::string random_name(std::mt19937& rng) {
  std::string s;
  for (std::size_t n = 1 + rng() % 32; n > 0; --n) {
    char c;
    do c = static_cast<char>(33 + rng() % 94);
    while (c == '=' || c == ']' || c == '"');
    s += c;
  }
  return s;
}

std::string random_timestamp(std::mt19937& rng) {
  const int year = 1970 + static_cast<int>(rng() % 100), month = 1 + static_cast<int>(rng() % 12);
  const int days[] = {31, (year % 4 == 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", year, month, 1 + static_cast<int>(rng() % days[month - 1]),
                static_cast<int>(rng() % 24), static_cast<int>(rng() % 60), static_cast<int>(rng() % 60));
  std::string ts = buf;
  if (const std::size_t digits = rng() % 7) ts += "." + std::to_string(rng()).substr(0, digits);
  if (rng() % 2) return ts + "Z";
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", rng() % 2 ? '+' : '-', static_cast<int>(rng() % 24),
                static_cast<int>(rng() % 60));
  return ts + buf;
}

std::string random_text(std::mt19937& rng, bool allow_lf) {
  static const std::vector<std::string> pieces = {"a", "Z", " ", "=", "\\", "]", "\"", "[", "\xC3\xBC", "\xE4\xB8\xAD",
                                                  "\xF0\x9F\x99\x82", "-", "\\\"", "\n"};
  std::string s;
  for (std::size_t n = rng() % 12; n > 0; --n) {
    const std::string& piece = pieces[rng() % (allow_lf ? pieces.size() : pieces.size() - 1)];
    s += piece;
  }
  return s;
}

TEST(SyslogRfc5424Encode, RandomRoundTrips) {
  std::mt19937 rng(5424);
  for (int i = 0; i < 2000; ++i) {
    std::deque<std::string> store;  // owns the text the Message views
    auto keep = [&](std::string s) -> std::string_view { return store.emplace_back(std::move(s)); };
    auto maybe = [&](std::size_t max) -> std::optional<std::string_view> {
      if (rng() % 4 == 0) return std::nullopt;
      return keep(random_token(rng, max));
    };
    Message m;
    const int facility = static_cast<int>(rng() % 24), severity = static_cast<int>(rng() % 8);
    m.pri = facility * 8 + severity;
    m.facility = facility;
    m.severity = severity;
    m.version = 1;
    if (rng() % 4) m.timestamp = keep(random_timestamp(rng));
    m.hostname = maybe(255);
    m.app_name = maybe(48);
    m.procid = maybe(128);
    m.msgid = maybe(32);
    for (std::size_t e = rng() % 4; e > 0; --e) {
      const std::string_view id = keep(random_name(rng) + "@" + std::to_string(m.sd.size()));  // unique
      if (id.size() > 32) continue;
      const auto first = static_cast<std::uint32_t>(m.params.size());
      for (std::size_t p = rng() % 4; p > 0; --p) m.params.push_back({keep(random_name(rng)), keep(random_text(rng, false)), false});
      m.sd.push_back({id, first, static_cast<std::uint32_t>(m.params.size()) - first});
    }
    if (rng() % 5) {
      m.msg = keep(random_text(rng, true));
      m.bom = rng() % 2;
    }

    const std::string line = encode_rfc5424(m);
    SCOPED_TRACE(line);
    Message decoded;
    const DecodeResult r = parse(line, Mode::strict, decoded);
    ASSERT_FALSE(r) << r->offset << ": " << r->reason;
    EXPECT_EQ(fields_json(decoded), fields_json(m));
    EXPECT_EQ(decoded.bom, m.bom);
    EXPECT_EQ(encode_rfc5424(decoded), line);
    Message lenient;
    ASSERT_FALSE(parse(line, Mode::lenient, lenient));
    EXPECT_EQ(fields_json(lenient), fields_json(m));
  }
}

}  // namespace
}  // namespace kumasim::formats::syslog

namespace kumasim::formats::syslog {
namespace {

TEST(DkpSyslog, MissingMessageSendsTheEventAsSerdeJson) {
  // VRL's encode_json writes floats as serde_json does (1e20, not nlohmann's 1e+20).
  const nlohmann::json event{{"timestamp", "t"}, {"x", 1e20}, {"y", 0.5}};
  const Encoded e = encode_dkp(event, "node");
  EXPECT_FALSE(e.fell_back);
  EXPECT_NE(e.line.find(R"("x":1e20,"y":0.5)"), std::string::npos) << e.line;
}

}  // namespace
}  // namespace kumasim::formats::syslog
