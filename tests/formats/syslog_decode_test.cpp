// Syslog decoding: kuma-receiver.md §6.1-6.3, the KUMA view of §4.4 and the
// syslog lints of §8, plus every vector of tests/data/vectors/syslog.jsonl.
#include "formats/syslog.h"

#include "support/test_data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace kumasim::formats::syslog {
namespace {

// The labels the lenient parse consumed, as {name: value}.
nlohmann::json labels_of(const Message& m) {
  nlohmann::json labels = nlohmann::json::object();
  for (const Param& p : m.labels) labels[std::string(p.name)] = param_value(p);
  return labels;
}

using nlohmann::json;
using namespace std::string_literals;

const std::string kBom = "\xEF\xBB\xBF";
const std::string kTs = "2003-10-11T22:14:15.003Z";

// "<14>1 TS host app procid msgid SD[ msg]" with one part replaced.
std::string line5424(const std::string& ts = kTs, const std::string& tail = "host app - ID47 - msg") {
  return "<14>1 " + ts + " " + tail;
}

std::vector<Reason> reasons(const Message& m) {
  std::vector<Reason> out;
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    if (m.has(static_cast<Reason>(i))) out.push_back(static_cast<Reason>(i));
  }
  return out;
}

std::string lint_names(const Lints& lints) {
  std::string out;
  for (const Lint& l : lints) out += std::string(lint_info(l.id).name) + (l.detail.empty() ? "" : ":" + l.detail) + " ";
  return out;
}

Lints lints_of(const Message& m) {
  Lints out;
  add_lints(m, out);
  return out;
}

// Inputs outlive the test: a Message holds views into its input.
const std::string& keep(const std::string& in) {
  static std::deque<std::string> inputs;
  return inputs.emplace_back(in);
}

// A strict parse that must succeed with no violation recorded.
Message strict_ok(const std::string& text) {
  const std::string& in = keep(text);
  Message m;
  const DecodeResult r = parse_rfc5424(in, Mode::strict, m);
  EXPECT_FALSE(r) << in << "\n  failed at " << r->offset << ": " << r->reason;
  EXPECT_EQ(m.violations, 0) << in;
  return m;
}

// A strict parse that must fail for `reason`, recording only that reason.
DecodeError strict_fails(const std::string& in, Reason reason) {
  Message m;
  const DecodeResult r = parse_rfc5424(in, Mode::strict, m);
  EXPECT_TRUE(r) << in;
  EXPECT_EQ(reasons(m), std::vector<Reason>{reason}) << in;
  return r.value_or(DecodeError{});
}

// A lenient parse that must succeed and record `reason` among its violations.
Message lenient_notes(const std::string& text, Reason reason) {
  const std::string& in = keep(text);
  Message m;
  const DecodeResult r = parse_rfc5424(in, Mode::lenient, m);
  EXPECT_FALSE(r) << in << "\n  failed at " << r->offset << ": " << r->reason;
  EXPECT_TRUE(m.has(reason)) << in;
  return m;
}

// A lenient parse that must fail, recording `reason`.
void lenient_fails(const std::string& in, Reason reason) {
  Message m;
  EXPECT_TRUE(parse_rfc5424(in, Mode::lenient, m)) << in;
  EXPECT_TRUE(m.has(reason)) << in;
}

// ------------------------------------------------------------- vectors

json without_leading_bom(json expect) {
  if (expect["msg"].is_string()) {
    std::string msg = expect["msg"];
    if (msg.starts_with(kBom)) expect["msg"] = msg.substr(kBom.size());
  }
  return expect;
}

TEST(SyslogVectors, ValidOnesDecodeToTheirExpectation) {
  const auto rows = testing::read_jsonl("tests/data/vectors/syslog.jsonl");
  ASSERT_FALSE(rows.empty());
  for (const json& row : rows) {
    if (!row["valid"].get<bool>()) continue;
    SCOPED_TRACE(row["id"].get<std::string>());
    const std::string input = row["input"];
    Message m;
    ASSERT_FALSE(parse(input, Mode::lenient, m));
    EXPECT_EQ(fields_json(m), without_leading_bom(row["expect"]));
    if (row["format"] == "rfc5424") {
      EXPECT_FALSE(parse(input, Mode::strict, m));
      EXPECT_EQ(fields_json(m), without_leading_bom(row["expect"]));
      EXPECT_EQ(m.violations, 0);
      EXPECT_TRUE(lints_of(m).empty());
    } else {
      // RFC 3164 decodes, but is not RFC 5424.
      EXPECT_EQ(m.flavor, Flavor::rfc3164);
      EXPECT_TRUE(parse(input, Mode::strict, m));
      EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_not_rfc5424, "looks-rfc3164"}}));
    }
  }
}

TEST(SyslogVectors, InvalidOnesFailTheStrictParse) {
  for (const json& row : testing::read_jsonl("tests/data/vectors/syslog.jsonl")) {
    if (row["valid"].get<bool>()) continue;
    SCOPED_TRACE(row["id"].get<std::string>());
    Message m;
    EXPECT_TRUE(parse_rfc5424(row["input"].get<std::string>(), Mode::strict, m));
    EXPECT_TRUE(parse(row["input"].get<std::string>(), Mode::strict, m));
  }
}

TEST(SyslogVectors, DeckhouseLinesParseLenientlyWithLints) {
  std::map<std::string, std::string> inputs;
  for (const json& row : testing::read_jsonl("tests/data/vectors/syslog.jsonl")) inputs[row["id"]] = row["input"];

  Message m;
  ASSERT_FALSE(parse(inputs.at("deckhouse-syslog-nolabels"), Mode::lenient, m));
  EXPECT_EQ(fields_json(m), json::parse(R"({"pri":14,"facility":1,"severity":6,"version":1,
      "timestamp":"2024-01-02T03:04:05.678+00:00","hostname":"node-1","app_name":"kubelet","procid":null,
      "msgid":null,"structured_data":null,"msg":"I0102 started"})"));
  EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_not_rfc5424, "empty-field"},
                                {LintId::syslog_labels_between_app_and_procid, ""}}));

  ASSERT_FALSE(parse(inputs.at("deckhouse-syslog-extralabels"), Mode::lenient, m));
  EXPECT_EQ(labels_of(m), json::parse(R"({"environment":"production","team":"platform"})"));
  EXPECT_EQ(fields_json(m)["procid"], nullptr);
  EXPECT_EQ(fields_json(m)["msg"], "I0102 started");
  EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_not_rfc5424, "empty-field"},
                                {LintId::syslog_not_rfc5424, "bad-structured-data"},
                                {LintId::syslog_labels_between_app_and_procid, "environment,team"}}));
  EXPECT_EQ(kuma_view(m).extra.at("label.team"), "platform");
}

// RFC 3164 §5.4 examples 3 and 4 are "non-conforming". What we do with them:
TEST(SyslogVectors, NonConformingRfc3164Examples) {
  std::map<std::string, std::string> inputs;
  for (const json& row : testing::read_jsonl("tests/data/vectors/syslog.jsonl")) inputs[row["id"]] = row["input"];
  Message m;

  // ex3: a valid BSD TIMESTAMP, then "CST 1987": read like most parsers do,
  // "CST" as HOSTNAME, no TAG ("1987" is a word), the rest as MSG.
  ASSERT_FALSE(parse(inputs.at("rfc3164-ex3-nonconforming-ts"), Mode::lenient, m));
  EXPECT_EQ(m.flavor, Flavor::rfc3164);
  EXPECT_EQ(m.timestamp, "Aug 24 05:34:00");
  EXPECT_EQ(m.hostname, "CST");
  EXPECT_FALSE(m.app_name);
  EXPECT_TRUE(m.msg->starts_with("1987 mymachine myproc[10]: %% It's time"));
  EXPECT_EQ(reasons(m), std::vector<Reason>{Reason::looks_rfc3164});

  // ex4: a digit follows '>' and "1990" is followed by SP, so auto-detection
  // says RFC 5424 (§6.3). VERSION 1990 breaks the strict parse; the lenient
  // one reads on but cannot read "10.1.2.3" as STRUCTURED-DATA: it fails too.
  const std::string ex4 = inputs.at("rfc3164-ex4-nonconforming");
  const DecodeResult strict = parse(ex4, Mode::strict, m);
  ASSERT_TRUE(strict);
  EXPECT_EQ(strict->offset, 6u);
  EXPECT_EQ(reasons(m), std::vector<Reason>{Reason::bad_version});
  EXPECT_TRUE(parse(ex4, Mode::lenient, m));
  EXPECT_EQ(reasons(m), (std::vector<Reason>{Reason::bad_version, Reason::bad_timestamp, Reason::bad_structured_data}));
  // Read as RFC 3164 directly, the TIMESTAMP is invalid, so a relay keeps it all as MSG.
  ASSERT_FALSE(parse_rfc3164(ex4, m));
  EXPECT_EQ(m.pri, 0);
  EXPECT_FALSE(m.timestamp);
  EXPECT_EQ(m.msg, ex4.substr(3));
}

// ------------------------------------------------------------------ PRI

TEST(Syslog5424Pri, RangeAndDigits) {
  for (const char* pri : {"<0>", "<7>", "<8>", "<191>", "<99>"}) strict_ok(pri + "1 - - - - - -"s);
  const Message m = strict_ok("<165>1 - - - - - -");
  EXPECT_EQ(m.pri, 165);
  EXPECT_EQ(m.facility, 20);
  EXPECT_EQ(m.severity, 5);

  EXPECT_EQ(strict_fails("1 - - - - - -", Reason::no_pri).offset, 0u);
  strict_fails("", Reason::no_pri);
  strict_fails("<>1 - - - - - -", Reason::bad_pri);
  strict_fails("<192>1 - - - - - -", Reason::bad_pri);
  strict_fails("<1000>1 - - - - - -", Reason::bad_pri);
  strict_fails("<14", Reason::bad_pri);
  strict_fails("<1a>1 - - - - - -", Reason::bad_pri);
  lenient_fails("<192>1 - - - - - -", Reason::bad_pri);
  lenient_fails("no pri at all", Reason::no_pri);
}

TEST(Syslog5424Pri, LeadingZeroFailsStrictOnly) {
  const DecodeError e = strict_fails("<002>1 - - - - - -", Reason::bad_pri);
  EXPECT_EQ(e.offset, 1u);
  EXPECT_EQ(e.reason, "PRIVAL has a leading zero");
  strict_fails("<00>1 - - - - - -", Reason::bad_pri);
  const Message m = lenient_notes("<014>1 - - - - - -", Reason::bad_pri);
  EXPECT_EQ(m.pri, 14);
}

// -------------------------------------------------------------- VERSION

TEST(Syslog5424Version, NonzeroOneToThreeDigits) {
  EXPECT_EQ(strict_ok("<14>1 - - - - - -").version, 1);
  EXPECT_EQ(strict_ok("<14>2 - - - - - -").version, 2);
  EXPECT_EQ(strict_ok("<14>999 - - - - - -").version, 999);
  EXPECT_EQ(strict_fails("<14>0 - - - - - -", Reason::bad_version).reason, "VERSION starts with 0");
  strict_fails("<14>01 - - - - - -", Reason::bad_version);
  strict_fails("<14>1000 - - - - - -", Reason::bad_version);
  EXPECT_EQ(lenient_notes("<14>1000 - - - - - -", Reason::bad_version).version, 1000);
  // No VERSION at all is the RFC 3164 layout.
  strict_fails("<14>Oct 11 22:14:15 host su: x", Reason::looks_rfc3164);
  strict_fails("<14>1x - - - - - -", Reason::looks_rfc3164);
  lenient_fails("<14> 1 - - - - - -", Reason::looks_rfc3164);
}

// ------------------------------------------------------------ TIMESTAMP

TEST(Syslog5424Timestamp, ValidForms) {
  for (const char* ts : {"2003-10-11T22:14:15.003Z", "1985-04-12T23:20:50.52Z", "1985-04-12T19:20:50.52-04:00",
                         "2003-08-24T05:14:15.000003-07:00", "2024-02-29T00:00:00Z", "2000-02-29T23:59:59+23:59",
                         "2024-12-31T00:00:00.1-00:00", "0000-01-01T00:00:00Z"}) {
    EXPECT_EQ(strict_ok(line5424(ts)).timestamp, ts);
  }
  EXPECT_FALSE(strict_ok(line5424("-")).timestamp);
}

TEST(Syslog5424Timestamp, InvalidFormsFailStrictAndAreKeptLeniently) {
  for (const char* ts : {
           "2023-02-29T00:00:00Z",        // not a leap year
           "1900-02-29T00:00:00Z",        // century, not a leap year
           "2024-04-31T00:00:00Z",        // April has 30 days
           "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2024-01-00T00:00:00Z",
           "2024-1-01T00:00:00Z",         // digits missing
           "2024-01-01t00:00:00Z",        // lowercase t
           "2024-01-01T00:00:00z",        // lowercase z
           "2024-01-01_00:00:00Z", "2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z",
           "2024-01-01T23:59:60Z",        // leap second
           "2024-01-01T00:00:00",         // no offset
           "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00+05:60", "2024-01-01T00:00:00+0500",
           "2024-01-01T00:00:00.Z",       // fraction without digits
           "2024-01-01T00:00:00.1234567890Z",  // 10 digits
           "2024-01-01T00:00:00ZZ", "Oct", "2024"}) {
    SCOPED_TRACE(ts);
    strict_fails(line5424(ts), Reason::bad_timestamp);
    EXPECT_EQ(lenient_notes(line5424(ts), Reason::bad_timestamp).timestamp, ts);
  }
  EXPECT_EQ(strict_fails(line5424("2023-02-29T00:00:00Z"), Reason::bad_timestamp).offset, 6u + 8u);
}

TEST(Syslog5424Timestamp, FractionDigits) {
  // 0 and 6 digits: valid in both modes.
  for (const char* ts : {"2024-01-01T00:00:00Z", "2024-01-01T00:00:00.123456Z"}) {
    strict_ok(line5424(ts));
    Message m;
    EXPECT_FALSE(parse_rfc5424(keep(line5424(ts)), Mode::lenient, m));
    EXPECT_TRUE(lints_of(m).empty());
  }
  // 7 and 9 digits: strict fails; lenient accepts with lint syslog-secfrac-over-6 only.
  for (const char* ts : {"2024-01-01T00:00:00.1234567Z", "2025-01-15T10:20:30.130512345+03:00"}) {
    SCOPED_TRACE(ts);
    Message m;
    const DecodeResult r = parse_rfc5424(keep(line5424(ts)), Mode::strict, m);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->offset, 6u + 26u);
    EXPECT_EQ(m.violations, 0);  // §6.2: the over-long fraction is reported by its own lint
    EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_secfrac_over_6, ""}}));
    ASSERT_FALSE(parse_rfc5424(keep(line5424(ts)), Mode::lenient, m));
    EXPECT_EQ(m.timestamp, ts);
    EXPECT_EQ(m.msg, "msg");
    EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_secfrac_over_6, ""}}));
  }
  Message m;
  ASSERT_FALSE(parse_rfc5424(keep(line5424("2024-01-01T00:00:00.123456789Z")), Mode::lenient, m));
  EXPECT_EQ(m.secfrac_digits, 9);
}

// -------------------------------------------------------- HEADER fields

TEST(Syslog5424Header, EmptyFieldsFailStrictAndAreNilLeniently) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"<14>1  host app - ID47 - msg", "timestamp"},   {"<14>1 -  app - ID47 - msg", "hostname"},
      {"<14>1 - host  - ID47 - msg", "app_name"},      {"<14>1 - host app  ID47 - msg", "procid"},
      {"<14>1 - host app 12  - msg", "msgid"},         {"<14>1 - host app 12 ID47  msg", "structured_data"},
  };
  for (const auto& [in, field] : cases) {
    SCOPED_TRACE(in);
    strict_fails(in, Reason::empty_field);
    const Message m = lenient_notes(in, Reason::empty_field);
    EXPECT_TRUE(m.used(Leniency::empty_field_as_nil));
    EXPECT_FALSE(m.used(Leniency::labels_between_app_and_procid));
    EXPECT_EQ(fields_json(m)[field], nullptr);
    EXPECT_EQ(m.msg, "msg");
  }
  // The SD slot at the very end: no MSG.
  EXPECT_FALSE(lenient_notes("<14>1 - host app 12 ID47 ", Reason::empty_field).msg);
}

TEST(Syslog5424Header, TruncatedHeaderIsUnreadable) {
  for (const char* in : {"<14>1", "<14>1 ", "<14>1 -", "<14>1 - host app", "<14>1 - host app 12 ID47"}) {
    SCOPED_TRACE(in);
    strict_fails(in, Reason::empty_field);
    lenient_fails(in, Reason::empty_field);
  }
}

TEST(Syslog5424Header, LengthLimits) {
  struct Case { std::string before, after; std::size_t max; };
  const std::vector<Case> cases = {
      {"<14>1 - ", " app - - - msg", 255}, {"<14>1 - host ", " - - - msg", 48},
      {"<14>1 - host app ", " - - msg", 128}, {"<14>1 - host app - ", " - msg", 32}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.max);
    strict_ok(c.before + std::string(c.max, 'x') + c.after);
    const std::string too_long = c.before + std::string(c.max + 1, 'x') + c.after;
    EXPECT_EQ(strict_fails(too_long, Reason::field_too_long).offset, c.before.size() + c.max);
    lenient_notes(too_long, Reason::field_too_long);
  }
}

TEST(Syslog5424Header, PrintUsAsciiOnly) {
  for (const std::string& host : {"h\xC3\xA9te"s, "h\tst"s, "h\x7Fst"s, "h\nst"s, "h\0st"s}) {
    const std::string in = "<14>1 - " + host + " app - - - msg";
    EXPECT_EQ(strict_fails(in, Reason::non_printusascii).offset, 9u);
    EXPECT_EQ(lenient_notes(in, Reason::non_printusascii).hostname, host);
  }
  strict_fails("<14>1 - host a\xC3\xA9 - - - msg", Reason::non_printusascii);
  strict_fails("<14>1 - host app 1\n2 - - msg", Reason::non_printusascii);  // LF only inside MSG
  strict_fails("<14>1 - host app - ID\x01 - msg", Reason::non_printusascii);
}

// ------------------------------------------------------ STRUCTURED-DATA

TEST(Syslog5424Sd, ElementsParamsAndEscapes) {
  const Message m = strict_ok(
      R"(<14>1 - h a - - [id@1 a="1" b="" c="q\"q" d="b\\s" e="x\]y" f="lit\n"][empty][id@2 a="ü 中 = x"] msg)");
  ASSERT_EQ(m.sd.size(), 3u);
  EXPECT_EQ(fields_json(m)["structured_data"], json::parse(R"({"id@1":{"a":"1","b":"","c":"q\"q","d":"b\\s",
      "e":"x]y","f":"lit\\n"},"empty":{},"id@2":{"a":"ü 中 = x"}})"));
  EXPECT_FALSE(m.params[0].escaped);
  EXPECT_TRUE(m.params[2].escaped);
  EXPECT_EQ(m.params[2].value, R"(q\"q)");
  EXPECT_EQ(m.msg, "msg");

  // A repeated PARAM-NAME is allowed (RFC 5424 §6.3.3).
  EXPECT_EQ(strict_ok(R"(<14>1 - h a - - [id a="1" a="2"])").params.size(), 2u);
  // SD last, without MSG; and with an empty MSG.
  EXPECT_FALSE(strict_ok("<14>1 - h a - - [id]").msg);
  EXPECT_EQ(strict_ok("<14>1 - h a - - - ").msg, "");
  // 32-character names are fine.
  strict_ok("<14>1 - h a - - [" + std::string(32, 'i') + " " + std::string(32, 'p') + "=\"v\"]");
}

TEST(Syslog5424Sd, SoftViolationsAreReadLeniently) {
  const std::vector<std::string> cases = {
      R"(<14>1 - h a - - [id a="x]y"] msg)",                         // unescaped ]
      "<14>1 - h a - - [" + std::string(33, 'i') + "] msg",          // SD-ID too long
      "<14>1 - h a - - [id " + std::string(33, 'p') + "=\"v\"] msg",  // PARAM-NAME too long
      "<14>1 - h a - - [i\xC3\xA9 a=\"v\"] msg",                     // SD-ID not PRINTUSASCII
      R"(<14>1 - h a - - [id  a="v"] msg)",                          // two SP
      R"(<14>1 - h a - - [id a="v" ] msg)",                          // SP before ]
      "<14>1 - h a - - [id a=\"line\nfeed\"] msg",                   // LF outside MSG
      "<14>1 - h a - - [id a=\"\xC3\x28\"] msg",                     // PARAM-VALUE not UTF-8
  };
  for (const std::string& in : cases) {
    SCOPED_TRACE(in);
    strict_fails(in, Reason::bad_structured_data);
    const Message m = lenient_notes(in, Reason::bad_structured_data);
    EXPECT_EQ(m.sd.size(), 1u);
    EXPECT_EQ(m.msg, "msg");
  }
  EXPECT_EQ(strict_fails(R"(<14>1 - h a - - [id a="x]y"] msg)", Reason::bad_structured_data).offset, 24u);
}

TEST(Syslog5424Sd, UnreadableStructuredDataFailsBothModes) {
  for (const char* in : {
           R"(<14>1 - h a - - [id a="b"c"] msg)",  // unescaped " ends the value early
           R"(<14>1 - h a - - [id a="b\)",         // lone trailing backslash
           R"(<14>1 - h a - - [id a="b\"])",       // the quote is escaped: value never closes
           R"(<14>1 - h a - - [ a="b"] msg)",      // empty SD-ID
           R"(<14>1 - h a - - [id ="b"] msg)",     // empty PARAM-NAME
           R"(<14>1 - h a - - [id a=b] msg)",      // unquoted value
           R"(<14>1 - h a - - [id a="b" msg)",     // element not closed
           R"(<14>1 - h a - - [id a="b"]x msg)",   // no SP after SD
           R"(<14>1 - h a - - -x msg)",            // no SP after "-"
           R"(<14>1 - h a - - x msg)",             // neither - nor [
       }) {
    SCOPED_TRACE(in);
    strict_fails(in, Reason::bad_structured_data);
    lenient_fails(in, Reason::bad_structured_data);
  }
}

TEST(Syslog5424Sd, DuplicateSdId) {
  const std::string in = R"(<14>1 - h a - - [x@1 a="1"][y@1][x@1 a="2"] msg)";
  EXPECT_EQ(strict_fails(in, Reason::duplicate_sd_id).reason, "SD-ID repeats");
  const Message m = lenient_notes(in, Reason::duplicate_sd_id);
  EXPECT_EQ(fields_json(m)["structured_data"]["x@1"]["a"], "2");  // merged, the later value wins
  EXPECT_EQ(kuma_view(m).extra.at("sd.x@1.a"), "2");
}

TEST(SyslogUnescape, OnlyQuoteBackslashAndBracket) {
  EXPECT_EQ(unescape_param(R"(a\"b)"), R"(a"b)");
  EXPECT_EQ(unescape_param(R"(a\\b)"), R"(a\b)");
  EXPECT_EQ(unescape_param(R"(a\]b)"), "a]b");
  EXPECT_EQ(unescape_param(R"(a\nb)"), R"(a\nb)");
  EXPECT_EQ(unescape_param(R"(\\\")"), R"(\")");
  EXPECT_EQ(unescape_param(R"(a\)"), R"(a\)");
  EXPECT_EQ(unescape_param(""), "");
}

// ------------------------------------------------------------------ MSG

TEST(Syslog5424Msg, BomAndUtf8) {
  Message m = strict_ok("<14>1 - h a - - - " + kBom + "caf\xC3\xA9\nline two");
  EXPECT_TRUE(m.bom);
  EXPECT_EQ(m.msg, "caf\xC3\xA9\nline two");  // the BOM is not part of msg; LF is fine inside MSG

  const std::string bad = "<14>1 - h a - - - " + kBom + "ab\xFF";
  EXPECT_EQ(strict_fails(bad, Reason::bad_utf8_after_bom).offset, 18u + 3u + 2u);
  EXPECT_EQ(lenient_notes(bad, Reason::bad_utf8_after_bom).msg, "ab\xFF");

  // Without a BOM, MSG is MSG-ANY: any octets.
  m = strict_ok("<14>1 - h a - - - ab\xFF\xFE");
  EXPECT_FALSE(m.bom);
  EXPECT_EQ(m.msg, "ab\xFF\xFE");
  EXPECT_EQ(strict_ok("<14>1 - h a - - - x" + kBom).msg, "x" + kBom);
}

// --------------------------------------------------- §6.2 DKP variants

TEST(SyslogDkpVariants, MergedDkpLineIsSecfracOnly) {
  const std::string audit = R"({"kind":"Event","verb":"get"})";
  const std::string in = "<14>1 2025-01-15T10:20:30.130512345+03:00 master-0 - - - - " + kBom + audit;
  Message m;
  ASSERT_FALSE(parse(in, Mode::lenient, m));
  EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_secfrac_over_6, ""}}));
  EXPECT_TRUE(parse(in, Mode::strict, m));
}

// kuma-receiver §7 row 4: what KUMA gets from the DKP Syslog line.
TEST(SyslogDkpVariants, KumaViewOfConfigurationFour) {
  const std::string audit =
      R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","user":{"username":"system:node:master-0"}})";
  const std::string in = "<14>1 2025-01-15T10:20:30.130512345+03:00 master-0 - - - - " + kBom + audit;
  Message m;
  ASSERT_FALSE(parse(in, Mode::lenient, m));
  const KumaEvent e = kuma_view(m);
  EXPECT_EQ(e.fields.at("DeviceHostName"), "master-0");
  EXPECT_EQ(e.fields.count("DeviceProcessName"), 0u);
  EXPECT_EQ(e.fields.at("Severity"), "6");
  EXPECT_EQ(e.fields.at("Message"), audit);
  EXPECT_EQ(e.fields.at("DeviceReceiptTime"), "2025-01-15T10:20:30.130512345+03:00");
  EXPECT_EQ(e.extra, (std::map<std::string, std::string>{{"facility", "1"}}));
  EXPECT_FALSE(e.raw);
  EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_secfrac_over_6, ""}}));
}

TEST(SyslogDkpVariants, BareLabelWords) {
  const std::string in = "<14>1 2025-01-15T10:20:30Z host app k=\"v\" k2=\"a \\\"b\\\" c\" - - - " + kBom + "m";
  // Without spaces in the values the words are valid PROCID/MSGID text, so the
  // strict grammar accepts such a line, reading "- - BOM m" as MSG.
  const Message strict = strict_ok("<14>1 - host app k=\"v\" k2=\"v2\" - - - " + kBom + "m");
  EXPECT_EQ(strict.procid, "k=\"v\"");
  EXPECT_EQ(strict.msgid, "k2=\"v2\"");
  EXPECT_EQ(strict.msg, "- - " + kBom + "m");
  strict_fails(in, Reason::bad_structured_data);  // with them, the word after 'k2="a' is read as STRUCTURED-DATA
  Message m;
  ASSERT_FALSE(parse(in, Mode::lenient, m));
  EXPECT_EQ(labels_of(m), json::parse(R"({"k":"v","k2":"a \"b\" c"})"));
  EXPECT_FALSE(m.procid);
  EXPECT_FALSE(m.msgid);
  EXPECT_TRUE(m.sd.empty());
  EXPECT_EQ(m.msg, "m");
  EXPECT_EQ(lint_names(lints_of(m)),
            "syslog-not-rfc5424:bad-structured-data syslog-labels-between-app-and-procid:k,k2 ");
  const KumaEvent e = kuma_view(m);
  EXPECT_EQ(e.extra.at("label.k"), "v");
  EXPECT_EQ(e.extra.at("label.k2"), "a \"b\" c");
  EXPECT_EQ(e.fields.at("DeviceProcessName"), "app");
}

TEST(SyslogDkpVariants, LabelsThenMsgidAndStructuredData) {
  Message m;
  ASSERT_FALSE(parse(R"(<14>1 - host app  env="prod" - ID9 [x@1 a="b"] text)", Mode::lenient, m));
  EXPECT_EQ(m.labels.size(), 1u);
  EXPECT_EQ(m.msgid, "ID9");
  EXPECT_EQ(m.sd.size(), 1u);
  EXPECT_EQ(m.msg, "text");
}

TEST(SyslogDkpVariants, SdElementInLabelPosition) {
  const std::string in = "<14>1 2025-01-15T10:20:30Z host app [extraLabels@deckhouse k=\"v\" team=\"a\\]b\"] - - - " + kBom + "m";
  Message m;
  ASSERT_FALSE(parse(in, Mode::lenient, m));
  EXPECT_EQ(labels_of(m), json::parse(R"({"k":"v","team":"a]b"})"));
  EXPECT_TRUE(m.sd.empty());
  EXPECT_EQ(m.msg, "m");
  EXPECT_EQ(lint_names(lints_of(m)),
            "syslog-not-rfc5424:bad-structured-data syslog-labels-between-app-and-procid:k,team ");
  // Strictly, "[extraLabels@deckhouse" is PROCID, 'k="v"' MSGID, and the next token is not SD.
  strict_fails(in, Reason::bad_structured_data);
}

TEST(SyslogDkpVariants, EmptyLabelsLeaveRunsOfSpaces) {
  Message m;
  ASSERT_FALSE(parse(keep("<14>1 - host app     - - - " + kBom + "m"), Mode::lenient, m));
  EXPECT_TRUE(m.labels.empty());
  EXPECT_TRUE(m.used(Leniency::labels_between_app_and_procid));
  EXPECT_EQ(m.msg, "m");
  EXPECT_TRUE(m.labels.empty());
}

TEST(SyslogDkpVariants, RealProcidsAreNotTakenForLabels) {
  // 'a="b"' can only be PROCID here: skipping it leaves no readable tail.
  Message m;
  ASSERT_FALSE(parse(R"(<14>1 - host app a="b" ID - msg)", Mode::lenient, m));
  EXPECT_EQ(m.procid, "a=\"b\"");
  EXPECT_EQ(m.msgid, "ID");
  EXPECT_FALSE(m.used(Leniency::labels_between_app_and_procid));
  EXPECT_EQ(m.violations, 0);
  // "[1]" has no SP before its ']', so it is not an SD element.
  ASSERT_FALSE(parse("<14>1 - host app [1] ID - msg", Mode::lenient, m));
  EXPECT_EQ(m.procid, "[1]");
}

// ------------------------------------------------------------ RFC 3164

void expect_3164(const std::string& in, const json& partial) {
  SCOPED_TRACE(in);
  Message m;
  ASSERT_FALSE(parse(in, Mode::lenient, m));
  EXPECT_EQ(m.flavor, Flavor::rfc3164);
  json expect = json::parse(R"({"pri":null,"facility":null,"severity":null,"version":null,"timestamp":null,
      "hostname":null,"app_name":null,"procid":null,"msgid":null,"structured_data":null,"msg":null})");
  expect.update(partial);
  EXPECT_EQ(fields_json(m), expect);
}

TEST(Syslog3164, StandardForm) {
  expect_3164("<34>Oct 11 22:14:15 mymachine su: 'su root' failed",
              {{"pri", 34}, {"facility", 4}, {"severity", 2}, {"timestamp", "Oct 11 22:14:15"},
               {"hostname", "mymachine"}, {"app_name", "su"}, {"msg", "'su root' failed"}});
  expect_3164("<13>Feb  5 17:32:18 10.0.0.99 sshd[4321]: Accepted",
              {{"pri", 13}, {"facility", 1}, {"severity", 5}, {"timestamp", "Feb  5 17:32:18"},
               {"hostname", "10.0.0.99"}, {"app_name", "sshd"}, {"procid", "4321"}, {"msg", "Accepted"}});
  expect_3164("<13>Feb 29 17:32:18 h",
              {{"pri", 13}, {"facility", 1}, {"severity", 5}, {"timestamp", "Feb 29 17:32:18"}, {"hostname", "h"}});
}

TEST(Syslog3164, Variants) {
  const json pri14 = {{"pri", 14}, {"facility", 1}, {"severity", 6}};
  auto with = [&](json extra) {
    json j = pri14;
    j.update(extra);
    return j;
  };
  // RFC 3339 timestamp instead of the BSD one.
  expect_3164("<14>2024-01-02T03:04:05.123456789+03:00 host app: hi",
              with({{"timestamp", "2024-01-02T03:04:05.123456789+03:00"}, {"hostname", "host"}, {"app_name", "app"},
                    {"msg", "hi"}}));
  // A year after the timestamp.
  expect_3164("<14>Jun 18 10:00:00 2024 host app: hi",
              with({{"timestamp", "Jun 18 10:00:00 2024"}, {"hostname", "host"}, {"app_name", "app"}, {"msg", "hi"}}));
  // A zero-padded day.
  expect_3164("<14>Feb 05 17:32:18 host app: hi",
              with({{"timestamp", "Feb 05 17:32:18"}, {"hostname", "host"}, {"app_name", "app"}, {"msg", "hi"}}));
  // A missing HOSTNAME: the token after the timestamp ends with ':' or contains '['.
  expect_3164("<14>Feb  5 17:32:18 su: hi", with({{"timestamp", "Feb  5 17:32:18"}, {"app_name", "su"}, {"msg", "hi"}}));
  expect_3164("<14>Feb  5 17:32:18 cron[12] hi",
              with({{"timestamp", "Feb  5 17:32:18"}, {"app_name", "cron"}, {"procid", "12"}, {"msg", "hi"}}));
  // A hostname containing '/'.
  expect_3164("<14>Feb  5 17:32:18 site/host app: hi",
              with({{"timestamp", "Feb  5 17:32:18"}, {"hostname", "site/host"}, {"app_name", "app"}, {"msg", "hi"}}));
  // No TAG.
  expect_3164("<14>Feb  5 17:32:18 host just words: here",
              with({{"timestamp", "Feb  5 17:32:18"}, {"hostname", "host"}, {"msg", "just words: here"}}));
  // A space after PRI.
  expect_3164("<189> Jun 18 10:00:00 host app: hi",
              {{"pri", 189}, {"facility", 23}, {"severity", 5}, {"timestamp", "Jun 18 10:00:00"}, {"hostname", "host"},
               {"app_name", "app"}, {"msg", "hi"}});
  // A TAG longer than 32 characters is a word.
  const std::string long_tag(33, 't');
  expect_3164("<14>Feb  5 17:32:18 host " + long_tag + ": hi",
              with({{"timestamp", "Feb  5 17:32:18"}, {"hostname", "host"}, {"msg", long_tag + ": hi"}}));
  // The message may end after the TIMESTAMP or the HOSTNAME.
  expect_3164("<14>Feb  5 17:32:18", with({{"timestamp", "Feb  5 17:32:18"}}));
  expect_3164("<14>Feb  5 17:32:18 host", with({{"timestamp", "Feb  5 17:32:18"}, {"hostname", "host"}}));
}

TEST(Syslog3164, EveryVariantIsLooksRfc3164) {
  Message m;
  for (const char* in : {"<14>2024-01-02T03:04:05Z host app: hi", "<14>Jun 18 10:00:00 2024 host app: hi",
                         "<14>Feb 05 17:32:18 host app: hi", "<14>Feb  5 17:32:18 su: hi",
                         "<14>Feb  5 17:32:18 site/host app: hi", "<14>Feb  5 17:32:18 host words",
                         "<189> Jun 18 10:00:00 host app: hi"}) {
    SCOPED_TRACE(in);
    ASSERT_FALSE(parse(in, Mode::lenient, m));
    EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_not_rfc5424, "looks-rfc3164"}}));
    const DecodeResult strict = parse(in, Mode::strict, m);
    ASSERT_TRUE(strict);
    EXPECT_EQ(strict->reason, "no VERSION SP after PRI (RFC 3164 layout)");
  }
}

TEST(Syslog3164, RelayRules) {
  // No PRI: a relay treats the message as <13> and all of it as MSG (the DKP fallback line).
  const std::string raw = R"({"kind":"Event"})";
  Message m;
  ASSERT_FALSE(parse(raw, Mode::lenient, m));
  EXPECT_EQ(m.pri, 13);
  EXPECT_EQ(m.msg, raw);
  EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_not_rfc5424, "no-pri"}}));
  EXPECT_EQ(kuma_view(m).fields.at("Message"), raw);
  const DecodeResult strict = parse(raw, Mode::strict, m);
  ASSERT_TRUE(strict);
  EXPECT_EQ(strict->offset, 0u);

  // An invalid PRI: the same, with bad-pri.
  ASSERT_FALSE(parse("<1234>Feb  5 17:32:18 h x", Mode::lenient, m));
  EXPECT_EQ(m.pri, 13);
  EXPECT_EQ(m.msg, "<1234>Feb  5 17:32:18 h x");
  EXPECT_EQ(reasons(m), std::vector<Reason>{Reason::bad_pri});

  // No valid TIMESTAMP: everything after PRI is MSG.
  for (const char* in : {"<14>Feb 30 17:32:18 h x", "<14>Foo  5 17:32:18 h x", "<14>Feb  5 24:00:00 h x",
                         "<14>Feb  5 17:32:18x h", "<14>hello world"}) {
    SCOPED_TRACE(in);
    ASSERT_FALSE(parse(in, Mode::lenient, m));
    EXPECT_FALSE(m.timestamp);
    EXPECT_FALSE(m.hostname);
    EXPECT_EQ(m.msg, std::string_view(in).substr(4));
  }
}

// ------------------------------------------------------- auto-detection

TEST(SyslogAutoDetect, DigitAfterPriMeansRfc5424) {
  EXPECT_TRUE(looks_like_rfc5424("<14>1 - - - - - -"));
  EXPECT_TRUE(looks_like_rfc5424("<0>1990 Oct 22"));
  EXPECT_TRUE(looks_like_rfc5424("<192>1 x"));  // then fails as RFC 5424 (bad-pri)
  EXPECT_FALSE(looks_like_rfc5424("<14>Oct 11 22:14:15 h x"));
  EXPECT_FALSE(looks_like_rfc5424("<14> 1 - - -"));
  // Digits not followed by SP are no VERSION: an RFC 3339 timestamp right after PRI.
  EXPECT_FALSE(looks_like_rfc5424("<14>2024-01-02T03:04:05Z h x"));
  EXPECT_FALSE(looks_like_rfc5424("<14>1"));
  EXPECT_FALSE(looks_like_rfc5424("<1234>1 x"));
  EXPECT_FALSE(looks_like_rfc5424("14>1 x"));
  EXPECT_FALSE(looks_like_rfc5424(""));

  Message m;
  ASSERT_FALSE(parse("<14>1 - h a - - - x", Mode::strict, m));
  EXPECT_EQ(m.flavor, Flavor::rfc5424);
  ASSERT_FALSE(parse("<14>Oct 11 22:14:15 h x", Mode::lenient, m));
  EXPECT_EQ(m.flavor, Flavor::rfc3164);
  EXPECT_TRUE(parse("<192>1 - h a - - - x", Mode::lenient, m));
}

// ------------------------------------------------------ KUMA view, lints

TEST(SyslogKumaView, MapsEveryPart) {
  Message m = strict_ok(R"(<165>1 2003-10-11T22:14:15.003Z mymachine evntslog 8710 ID47 [ex@1 iut="3" q="a\"b"] )" +
                        kBom + "An entry");
  const KumaEvent e = kuma_view(m);
  EXPECT_EQ(e.fields, (std::map<std::string, std::string>{{"DeviceProcessName", "evntslog"},
                                                           {"DeviceHostName", "mymachine"},
                                                           {"DeviceReceiptTime", "2003-10-11T22:14:15.003Z"},
                                                           {"Message", "An entry"},
                                                           {"Severity", "5"}}));
  EXPECT_EQ(e.extra, (std::map<std::string, std::string>{
                         {"facility", "20"}, {"procid", "8710"}, {"msgid", "ID47"}, {"sd.ex@1.iut", "3"}, {"sd.ex@1.q", "a\"b"}}));

  ASSERT_FALSE(parse("<34>Oct 11 22:14:15 mymachine su[7]: failed", Mode::lenient, m));
  const KumaEvent bsd = kuma_view(m);
  EXPECT_EQ(bsd.fields.at("DeviceProcessName"), "su");
  EXPECT_EQ(bsd.fields.at("DeviceReceiptTime"), "Oct 11 22:14:15");
  EXPECT_EQ(bsd.fields.at("Message"), "failed");
  EXPECT_EQ(bsd.extra.at("procid"), "7");
}

TEST(SyslogLints, OnePerDistinctReasonAndAfterFailure) {
  Message m;
  // A leading-zero PRIVAL and two empty fields: each reason once.
  ASSERT_FALSE(parse_rfc5424("<014>1  host  - - - x", Mode::lenient, m));
  EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_not_rfc5424, "bad-pri"}, {LintId::syslog_not_rfc5424, "empty-field"}}));
  // A failed parse still tells why.
  ASSERT_TRUE(parse_rfc5424(R"({"raw":"json"})", Mode::lenient, m));
  EXPECT_EQ(lints_of(m), (Lints{{LintId::syslog_not_rfc5424, "no-pri"}}));
  for (std::size_t i = 0; i < kReasonCount; ++i) EXPECT_FALSE(reason_code(static_cast<Reason>(i)).empty());
  EXPECT_EQ(reason_code(Reason::bad_utf8_after_bom), "bad-utf8-after-bom");
}

// ----------------------------------------------------------- robustness

TEST(SyslogRobustness, MessageIsReusable) {
  Message m;
  ASSERT_FALSE(parse(R"(<14>1 - host app k="v" - - [a b="c"] x)", Mode::lenient, m));
  ASSERT_FALSE(parse("<34>Oct 11 22:14:15 h su: y", Mode::lenient, m));
  EXPECT_TRUE(m.sd.empty());
  EXPECT_TRUE(m.params.empty());
  EXPECT_TRUE(m.labels.empty());
  EXPECT_EQ(m.leniencies, 0);
  EXPECT_FALSE(m.version);
}

// Every prefix and random mutations of some messages: no crash, no
// out-of-bounds read (ASan), no exception, and fields_json always works.
TEST(SyslogRobustness, PrefixesAndMutations) {
  const std::vector<std::string> seeds = {
      R"(<165>1 2003-10-11T22:14:15.003Z mymachine evntslog - ID47 [exampleSDID@32473 iut="3" e="a\"b\]"][x])" " " +
          kBom + "An application event",
      "<14>1 2024-01-02T03:04:05.678+00:00 node-1 kubelet  environment=\"production\" team=\"platform\" - - - " + kBom +
          "I0102",
      R"(<14>1 - host app [extraLabels@deckhouse k="v"] - - - m)",
      "<34>Oct 11 22:14:15 mymachine su[12]: 'su root' failed",
      "<189> Jun 18 10:00:00 2024 host/x app: hi",
      "<14>2024-01-02T03:04:05Z host app: hi",
  };
  std::mt19937 rng(20240229);
  const std::string alphabet = "<>[]\"\\= -:0123456789TZz.\xEF\xBB\xBF\n\xFF";
  Message m;
  std::size_t runs = 0;
  for (const std::string& seed : seeds) {
    std::vector<std::string> inputs;
    for (std::size_t n = 0; n <= seed.size(); ++n) inputs.push_back(seed.substr(0, n));
    for (int i = 0; i < 300; ++i) {
      std::string s = seed;
      for (int k = 0; k < 3; ++k) s[rng() % s.size()] = alphabet[rng() % alphabet.size()];
      inputs.push_back(s);
    }
    for (const std::string& in : inputs) {
      // Exact-size heap copies so ASan sees any read past the end.
      const std::unique_ptr<char[]> copy(new char[in.size() + 1]);
      std::copy(in.begin(), in.end(), copy.get());
      const std::string_view view(copy.get(), in.size());
      for (Mode mode : {Mode::strict, Mode::lenient}) {
        parse(view, mode, m);
        EXPECT_NO_THROW((void)fields_json(m).dump(-1, ' ', false, json::error_handler_t::replace));
        parse_rfc5424(view, mode, m);
        (void)kuma_view(m);
        ++runs;
      }
      parse_rfc3164(view, m);
      (void)lints_of(m);
    }
  }
  EXPECT_GT(runs, 3000u);
}

// On the vectors, a strict success is a lenient success with the same fields.
// (Not in general: label-shaped PROCID and MSGID, see BareLabelWords.)
TEST(SyslogRobustness, StrictAndLenientAgreeOnTheVectors) {
  for (const json& row : testing::read_jsonl("tests/data/vectors/syslog.jsonl")) {
    const std::string in = row["input"];
    Message strict, lenient;
    if (parse_rfc5424(in, Mode::strict, strict)) continue;
    ASSERT_FALSE(parse_rfc5424(in, Mode::lenient, lenient));
    EXPECT_EQ(fields_json(strict), fields_json(lenient));
  }
}

}  // namespace
}  // namespace kumasim::formats::syslog
