// CEF decoder, KUMA view and lints: kuma-receiver.md §4.2, §5, §8 (cef-*).
#include "formats/cef.h"

#include "support/test_data.h"

#include "support/dkp_example.h"
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <climits>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
// From <sanitizer/allocator_interface.h>, which GCC does not ship; libasan exports it.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                        void (*free_hook)(const volatile void*));
#endif

namespace kumasim::formats::cef {
namespace {

using nlohmann::json;

const std::string kHead = "CEF:0|V|P|1|100|N|5|";

// Decodes a copy of `in` kept alive for the whole test run: Event holds views.
const Event& decoded(std::string in) {
  static std::deque<std::string> inputs;  // a deque never moves its elements
  static std::deque<Event> events;
  const std::string& kept = inputs.emplace_back(std::move(in));
  Event& e = events.emplace_back();
  const DecodeResult err = decode(kept, e);
  EXPECT_FALSE(err) << "offset " << err->offset << ": " << err->reason << " in " << kept;
  return e;
}

Lints lints_of(std::string_view in) {
  Event e;
  decode(in, e);
  Lints lints;
  add_lints(e, lints);
  return lints;
}

std::vector<std::string> lint_names(const Lints& lints) {
  std::vector<std::string> names;
  for (const Lint& l : lints) names.emplace_back(lint_info(l.id).name);
  return names;
}

std::string lint_detail(const Lints& lints, LintId id) {
  for (const Lint& l : lints)
    if (l.id == id) return l.detail;
  ADD_FAILURE() << "missing lint " << lint_info(id).name;
  return {};
}

// Extensions of `in` as key -> unescaped value (last duplicate wins).
json ext(const std::string& in) { return fields_json(decoded(in))["extensions"]; }

// ------------------------------------------------------------- test vectors

TEST(CefVectors, EveryVector) {
  const auto rows = testing::read_jsonl("tests/data/vectors/cef.jsonl");
  ASSERT_FALSE(rows.empty());
  for (const json& row : rows) {
    SCOPED_TRACE(row["id"].get<std::string>());
    const std::string input = row["input"];
    Event e;
    const DecodeResult err = decode(input, e);
    if (!row["valid"].get<bool>()) continue;  // the one invalid vector has its own test
    ASSERT_FALSE(err) << err->reason;
    json got = fields_json(e);
    got.erase("prefix");
    EXPECT_EQ(got, row["expect"]);
  }
}

TEST(CefVectors, SyslogPrefixIsKept) {
  const auto rows = testing::read_jsonl("tests/data/vectors/cef.jsonl");
  for (const json& row : rows) {
    if (row["id"] != "spec-syslog-prefixed") continue;
    const json got = fields_json(decoded(row["input"].get<std::string>()));
    EXPECT_EQ(got["prefix"], "Sep 29 08:26:10 host ");
    return;
  }
  FAIL() << "vector spec-syslog-prefixed not found";
}

TEST(CefVectors, RawNewlineSplitsIntoCefFrameAndNonCefTail) {
  std::string input;
  for (const json& row : testing::read_jsonl("tests/data/vectors/cef.jsonl"))
    if (row["id"] == "deckhouse-cef1-raw-newline") input = row["input"];
  ASSERT_FALSE(input.empty());
  const std::size_t lf = input.find('\n');
  ASSERT_NE(lf, std::string::npos);

  // The whole line: the LF stays inside the value (only a trailing one is trimmed).
  EXPECT_EQ(ext(input)["message"], "panic: boom\ngoroutine 1 [running]");

  // What a KUMA tcp connector with delimiter \n delivers: two frames.
  const std::string head = input.substr(0, lf), tail = input.substr(lf + 1);
  EXPECT_EQ(ext(head), json({{"message", "panic: boom"}}));
  Event e;
  const DecodeResult err = decode(tail, e);
  ASSERT_TRUE(err);
  EXPECT_EQ(e.failure, Failure::no_cef);
  EXPECT_FALSE(e.found_cef);  // the normalizer turns this into frame-not-cef
  Lints lints;
  add_lints(e, lints);
  EXPECT_TRUE(lints.empty());
}

// ------------------------------------------------------------- §5.1 header

TEST(CefHeader, SevenFieldsAndViews) {
  const Event& e = decoded("CEF:0|Vendor|Product|2.0|sig-1|Name here|7|a=b");
  EXPECT_EQ(e.version, 0);
  EXPECT_EQ(e.version_text, "0");
  EXPECT_EQ(e.header_fields, kHeaderFields);
  EXPECT_EQ(e.raw(HeaderField::device_vendor), "Vendor");
  EXPECT_EQ(e.raw(HeaderField::device_product), "Product");
  EXPECT_EQ(e.raw(HeaderField::device_version), "2.0");
  EXPECT_EQ(e.raw(HeaderField::signature_id), "sig-1");
  EXPECT_EQ(e.raw(HeaderField::name), "Name here");
  EXPECT_EQ(e.raw(HeaderField::severity), "7");
  EXPECT_FALSE(e.missing_trailing_pipe);
  EXPECT_EQ(e.failure, Failure::none);
}

TEST(CefHeader, EscapedPipeAndBackslash) {
  const std::string in = R"(CEF:0|Ven\|dor|Pro\\duct|1|a\\\|b|N|5|)";
  const Event& e = decoded(in);
  EXPECT_EQ(e.raw(HeaderField::device_vendor), R"(Ven\|dor)");
  EXPECT_EQ(e.value(HeaderField::device_vendor), "Ven|dor");
  EXPECT_EQ(e.value(HeaderField::device_product), R"(Pro\duct)");
  EXPECT_EQ(e.value(HeaderField::signature_id), R"(a\|b)");
  EXPECT_FALSE(has_lint(lints_of(in), LintId::cef_invalid_escape));
}

TEST(CefHeader, EqualsAndSpacesAreLiteral) {
  const std::string in = "CEF:0|V|P|1|c|a=b c = d|5|";
  EXPECT_EQ(decoded(in).value(HeaderField::name), "a=b c = d");
  EXPECT_EQ(lint_names(lints_of(in)), std::vector<std::string>{});
}

TEST(CefHeader, UndefinedEscapeIsKeptAndLinted) {
  const std::string in = R"(CEF:0|V|P|1|c|line\nbreak \= x|5|)";
  EXPECT_EQ(decoded(in).value(HeaderField::name), R"(line\nbreak \= x)");
  EXPECT_EQ(lint_detail(lints_of(in), LintId::cef_invalid_escape), "header.name");
}

TEST(CefHeader, ValuesAreNeitherTrimmedNorUnquoted) {
  const Event& e = decoded(R"(CEF:0| V |"P"|1|c| N |5|)");
  EXPECT_EQ(e.value(HeaderField::device_vendor), " V ");
  EXPECT_EQ(e.value(HeaderField::device_product), "\"P\"");
  EXPECT_EQ(e.value(HeaderField::name), " N ");
  // CR and LF are not allowed in a header, but no parser rule removes them: kept.
  EXPECT_EQ(decoded("CEF:0|V|P|1|c|a\r\nb|5|").value(HeaderField::name), "a\r\nb");
}

TEST(CefHeader, VersionZeroOneAndOthers) {
  EXPECT_EQ(lint_names(lints_of(kHead)), std::vector<std::string>{});
  EXPECT_EQ(lint_names(lints_of("CEF:1|V|P|1|c|N|5|")), std::vector<std::string>{"cef-version-1"});
  const Lints v2 = lints_of("CEF:2|V|P|1|c|N|5|");
  EXPECT_EQ(lint_names(v2), std::vector<std::string>{"cef-version-unknown"});
  EXPECT_EQ(lint_detail(v2, LintId::cef_version_unknown), "2");
  EXPECT_EQ(decoded("CEF:01|V|P|1|c|N|5|").version, 1);  // digits, read as an integer
  const Event huge = decoded("CEF:99999999999999999999|V|P|1|c|N|5|");
  EXPECT_EQ(huge.version, INT_MAX);  // saturated, still "unknown"
  EXPECT_TRUE(has_lint(lints_of("CEF:99999999999999999999|V|P|1|c|N|5|"), LintId::cef_version_unknown));
}

TEST(CefHeader, NonNumericVersionIsIncompleteHeader) {
  for (const std::string in : {"CEF:x|V|P|1|c|N|5|", "CEF:|V|P|1|c|N|5|", "CEF:0.1|V|P|1|c|N|5|", "CEF: 0|V|P|1|c|N|5|"}) {
    SCOPED_TRACE(in);
    Event e;
    const DecodeResult err = decode(in, e);
    ASSERT_TRUE(err);
    EXPECT_EQ(e.failure, Failure::bad_version);
    EXPECT_FALSE(err->reason.empty());
    Lints lints;
    add_lints(e, lints);
    ASSERT_EQ(lints.size(), 1u);
    EXPECT_EQ(lints[0], (Lint{LintId::cef_incomplete_header, "bad-version"}));
  }
  Event e;
  EXPECT_EQ(decode("CEF:0x|", e)->offset, 5u);  // the first non-digit
  EXPECT_EQ(decode("CEF:|", e)->offset, 4u);
}

TEST(CefHeader, InputEndingBeforeSeverityIsIncomplete) {
  for (const std::string in : {"CEF:0", "CEF:0|", "CEF:0|V|P|1|c", "CEF:0|V|P|1|c|N", "CEF:0|V|P|1|c|N\\|5"}) {
    SCOPED_TRACE(in);
    Event e;
    const DecodeResult err = decode(in, e);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->offset, in.size());
    EXPECT_EQ(e.failure, Failure::incomplete_header);
    Lints lints;
    add_lints(e, lints);
    EXPECT_EQ(lints, (Lints{{LintId::cef_incomplete_header, "truncated"}}));
  }
  // What was read before the end is kept for the KUMA view.
  Event e;
  decode("CEF:0|V|P|1|c", e);
  EXPECT_EQ(e.header_fields, 3u);
  EXPECT_EQ(kuma_view(e).fields, (std::map<std::string, std::string>{
                                     {"DeviceVendor", "V"}, {"DeviceProduct", "P"}, {"DeviceVersion", "1"}}));
  EXPECT_EQ(fields_json(e), json({{"version", 0}, {"device_vendor", "V"}, {"device_product", "P"}, {"device_version", "1"}}));
}

TEST(CefHeader, MissingTrailingPipeMeansZeroExtensions) {
  const std::string in = "CEF:1|Deckhouse|log-shipper-agent|1|Log event|Deckhouse Event|5";
  const Event& e = decoded(in);
  EXPECT_TRUE(e.missing_trailing_pipe);
  EXPECT_EQ(e.value(HeaderField::severity), "5");
  EXPECT_TRUE(e.extensions.empty());
  EXPECT_EQ(lint_names(lints_of(in)), (std::vector<std::string>{"cef-version-1", "cef-missing-trailing-pipe"}));
  EXPECT_FALSE(has_lint(lints_of(in + "|"), LintId::cef_missing_trailing_pipe));
  EXPECT_TRUE(decoded(in + "|").extensions.empty());
}

TEST(CefHeader, SeverityForms) {
  for (const std::string ok : {"0", "5", "10", "05", "Unknown", "Low", "Medium", "High", "Very-High"}) {
    SCOPED_TRACE(ok);
    EXPECT_FALSE(has_lint(lints_of("CEF:0|V|P|1|c|N|" + ok + "|"), LintId::cef_severity_invalid));
  }
  for (const std::string bad : {"11", "-1", "+5", " 5", "5 ", "", "high", "Very High", "Unknown ", "3.0", "100"}) {
    SCOPED_TRACE(bad);
    const Lints lints = lints_of("CEF:0|V|P|1|c|N|" + bad + "|");
    ASSERT_TRUE(has_lint(lints, LintId::cef_severity_invalid));
    EXPECT_EQ(lint_detail(lints, LintId::cef_severity_invalid), bad);
    EXPECT_EQ(decoded("CEF:0|V|P|1|c|N|" + bad + "|").failure, Failure::none);  // not a normalization error
  }
}

std::string header_with(std::size_t field, const std::string& value) {
  std::vector<std::string> f = {"V", "P", "1", "c", "N", "5"};
  f[field] = value;
  std::string line = "CEF:0";
  for (const std::string& v : f) line += "|" + v;
  return line + "|";
}

TEST(CefHeader, LengthLimitsInCodePointsOfTheUnescapedValue) {
  const std::vector<std::pair<std::size_t, std::size_t>> limits = {{0, 63}, {1, 63}, {2, 31}, {3, 1023}, {4, 512}};
  const std::vector<std::string> names = {"device_vendor", "device_product", "device_version", "signature_id", "name"};
  for (const auto& [field, limit] : limits) {
    SCOPED_TRACE(names[field]);
    EXPECT_FALSE(has_lint(lints_of(header_with(field, std::string(limit, 'x'))), LintId::cef_header_field_too_long));
    const Lints over = lints_of(header_with(field, std::string(limit + 1, 'x')));
    EXPECT_EQ(lint_detail(over, LintId::cef_header_field_too_long), names[field]);
    // Two-byte characters count once; an escaped pipe counts once.
    std::string wide;
    for (std::size_t i = 0; i < limit; ++i) wide += "\xC3\xA9";
    EXPECT_FALSE(has_lint(lints_of(header_with(field, wide)), LintId::cef_header_field_too_long));
    std::string escaped = std::string(limit - 1, 'x') + "\\|";
    EXPECT_FALSE(has_lint(lints_of(header_with(field, escaped)), LintId::cef_header_field_too_long));
    EXPECT_TRUE(has_lint(lints_of(header_with(field, escaped + "x")), LintId::cef_header_field_too_long));
  }
  const Lints two = lints_of("CEF:0|" + std::string(64, 'v') + "|P|1|c|" + std::string(513, 'n') + "|5|");
  EXPECT_EQ(lint_detail(two, LintId::cef_header_field_too_long), "device_vendor,name");
  EXPECT_FALSE(has_lint(lints_of(header_with(5, std::string(2000, '1'))), LintId::cef_header_field_too_long));
}

// ------------------------------------------------------------- §5.2 extension

TEST(CefExtension, ValuesRunToTheNextSpaceKeyEquals) {
  EXPECT_EQ(ext(kHead + R"(act=blocked a \= dst=1.1.1.1)"), json({{"act", "blocked a ="}, {"dst", "1.1.1.1"}}));
  EXPECT_EQ(ext(kHead + "msg=hello world src=10.0.0.1"), json({{"msg", "hello world"}, {"src", "10.0.0.1"}}));
}

TEST(CefExtension, Escapes) {
  const std::string in = kHead + R"(a=back\\slash b=eq\=ual c=l\nf d=c\rr e=pi|pe)";
  EXPECT_EQ(ext(in), json({{"a", "back\\slash"}, {"b", "eq=ual"}, {"c", "l\nf"}, {"d", "c\rr"}, {"e", "pi|pe"}}));
  EXPECT_EQ(lint_names(lints_of(in)), std::vector<std::string>{"cef-nonstandard-extension-keys"});
  EXPECT_EQ(unescape_value(R"(\\n)"), "\\n");  // left to right: an escaped backslash, then a letter
  EXPECT_EQ(unescape_value(R"(x\)"), "x\\");   // a final lone backslash stays
  EXPECT_EQ(unescape_value(R"(\t\")"), R"(\t\")");
  EXPECT_EQ(unescape_header(R"(\n\=\|\\x\)"), R"(\n\=|\x\)");
}

TEST(CefExtension, EmptyValuesAreLegal) {
  EXPECT_EQ(ext(kHead + "dst= src=1.2.3.4 act="), json({{"dst", ""}, {"src", "1.2.3.4"}, {"act", ""}}));
}

TEST(CefExtension, SpacesAfterTheSeventhPipeAreSkipped) {
  EXPECT_EQ(ext(kHead + "   a=b"), json({{"a", "b"}}));
  EXPECT_TRUE(decoded(kHead + "   ").extensions.empty());
}

TEST(CefExtension, KeyGrammar) {
  EXPECT_EQ(ext(kHead + "_k.1=v Ab_9.x=w"), json({{"_k.1", "v"}, {"Ab_9.x", "w"}}));
  // A digit or '.' cannot start a key: the text stays in the value.
  EXPECT_EQ(ext(kHead + "a=x 1b=y .c=z"), json({{"a", "x 1b=y .c=z"}}));
  EXPECT_EQ(ext(kHead + "a=x -b=y"), json({{"a", "x -b=y"}}));
}

TEST(CefExtension, RawViewsAndLazyValues) {
  const Event& e = decoded(kHead + R"(a=x\=y b=plain)");
  ASSERT_EQ(e.extensions.size(), 2u);
  EXPECT_EQ(e.extensions[0].key, "a");
  EXPECT_EQ(e.extensions[0].raw_value, R"(x\=y)");
  EXPECT_TRUE(e.extensions[0].flags & kHasEscape);
  EXPECT_EQ(e.extensions[0].value(), "x=y");
  EXPECT_EQ(e.extensions[1].flags, 0);
  EXPECT_EQ(e.extensions[1].value(), "plain");
}

// ------------------------------------------------------------- §5.5, each row

TEST(CefDisagreements, BackslashRIsCarriageReturn) {
  EXPECT_EQ(ext(kHead + R"(a=x\ry)")["a"], "x\ry");
  EXPECT_EQ(ext(kHead + R"(a=x\\ry)")["a"], "x\\ry");
}

TEST(CefDisagreements, TrailingSpacesOfANonFinalValueAreKept) {
  EXPECT_EQ(ext(kHead + "a=x   b=y"), json({{"a", "x  "}, {"b", "y"}}));
  EXPECT_EQ(ext(kHead + "a= x b=y")["a"], " x");  // leading spaces of a value too
}

TEST(CefDisagreements, TrailingWhitespaceOfTheFinalValueIsTrimmed) {
  EXPECT_EQ(ext(kHead + "a=x y \t\r\n")["a"], "x y");
  EXPECT_EQ(ext(kHead + "a=x\r")["a"], "x");
  EXPECT_EQ(ext(kHead + "a=x\ny\n")["a"], "x\ny");  // only trailing CR/LF go
  EXPECT_EQ(ext(kHead + "a=x \tb")["a"], "x \tb");
  // A remainder of whitespace only (a CRLF sender, no extension) is no extension.
  const Event& e = decoded(kHead + "\r");
  EXPECT_TRUE(e.extensions.empty());
  EXPECT_EQ(e.failure, Failure::none);
}

TEST(CefDisagreements, EscapedPipeIsALiteralPipe) {
  const std::string in = kHead + R"(a=x\|y b=z)";
  EXPECT_EQ(ext(in)["a"], "x|y");
  EXPECT_EQ(lint_detail(lints_of(in), LintId::cef_pipe_escape_in_extension), "a");
  EXPECT_FALSE(has_lint(lints_of(kHead + "a=x|y"), LintId::cef_pipe_escape_in_extension));
}

TEST(CefDisagreements, SurroundingQuotesAreKept) {
  EXPECT_EQ(ext(kHead + R"(a="quoted value" b='x')"), json({{"a", "\"quoted value\""}, {"b", "'x'"}}));
}

TEST(CefDisagreements, UnescapedEqualsIsPartOfTheValue) {
  const std::string in = kHead + "a=b=c d=e x y==z";
  EXPECT_EQ(ext(in), json({{"a", "b=c"}, {"d", "e x"}, {"y", "=z"}}));
  EXPECT_EQ(lint_detail(lints_of(in), LintId::cef_unescaped_equals), "a,y");
  EXPECT_FALSE(has_lint(lints_of(kHead + R"(a=b\=c)"), LintId::cef_unescaped_equals));
  // An escaped backslash does not escape the '=' after it.
  EXPECT_TRUE(has_lint(lints_of(kHead + R"(a=b\\=c)"), LintId::cef_unescaped_equals));
  EXPECT_FALSE(has_lint(lints_of(kHead + R"(a=b\\\=c)"), LintId::cef_unescaped_equals));
  EXPECT_EQ(ext(kHead + "a=x =y")["a"], "x =y");
}

TEST(CefDisagreements, HeaderWithoutClosingPipeIsAccepted) {
  const Event& e = decoded("CEF:0|V|P|1|c|N|Unknown");
  EXPECT_TRUE(e.missing_trailing_pipe);
  EXPECT_EQ(e.value(HeaderField::severity), "Unknown");
  EXPECT_FALSE(decoded(kHead).missing_trailing_pipe);
}

TEST(CefDisagreements, HeaderSpacesAreKept) {
  EXPECT_EQ(decoded("CEF:0|V|P|1|c|N| 5 |").value(HeaderField::severity), " 5 ");
  EXPECT_EQ(decoded(kHead).value(HeaderField::severity), "5");
}

TEST(CefDisagreements, UnknownEscapeIsKept) {
  const std::string in = kHead + R"(a=C:\temp\x b=ok\\)";
  EXPECT_EQ(ext(in), json({{"a", R"(C:\temp\x)"}, {"b", "ok\\"}}));
  EXPECT_EQ(lint_detail(lints_of(in), LintId::cef_invalid_escape), "a");
  EXPECT_FALSE(has_lint(lints_of(kHead + R"(a=C:\\temp)"), LintId::cef_invalid_escape));
  // A final lone backslash is kept too, and flagged.
  const std::string lone = kHead + R"(a=x\)";
  EXPECT_EQ(ext(lone)["a"], "x\\");
  EXPECT_TRUE(has_lint(lints_of(lone), LintId::cef_invalid_escape));
}

TEST(CefDisagreements, TabIsNotASeparator) {
  const std::string in = kHead + "a=x\tb=y";
  EXPECT_EQ(ext(in), json({{"a", "x\tb=y"}}));
  EXPECT_TRUE(has_lint(lints_of(in), LintId::cef_unescaped_equals));
  EXPECT_EQ(ext(kHead + "a=x b=y"), json({{"a", "x"}, {"b", "y"}}));
}

// ------------------------------------------------------------- §5.6 algorithm

TEST(CefAlgorithm, NoCefIsAnError) {
  Event e;
  const DecodeResult err = decode("just a log line", e);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->offset, 0u);
  EXPECT_EQ(e.failure, Failure::no_cef);
  EXPECT_FALSE(e.found_cef);
  EXPECT_TRUE(decode("", e));
  EXPECT_TRUE(decode("CEF", e));
  EXPECT_TRUE(decode("cef:0|V|P|1|c|N|5|", e));  // the marker is case-sensitive
  Lints lints;
  add_lints(e, lints);
  EXPECT_TRUE(lints.empty());
  EXPECT_TRUE(kuma_view(e).fields.empty());
  EXPECT_EQ(fields_json(e), json::object());
}

TEST(CefAlgorithm, TextBeforeTheFirstCefIsThePrefix) {
  const std::string in = "<189>1 2021-06-18T10:55:50Z host app - - - CEF:0|V|P|1|c|N|5|msg=CEF:1 inside";
  const Event& e = decoded(in);
  EXPECT_TRUE(e.found_cef);
  EXPECT_EQ(e.prefix, "<189>1 2021-06-18T10:55:50Z host app - - - ");
  EXPECT_EQ(e.version, 0);
  EXPECT_EQ(e.extensions.at(0).value(), "CEF:1 inside");
  EXPECT_EQ(kuma_view(e).extra.at("cefPrefix"), e.prefix);
  EXPECT_EQ(fields_json(e)["prefix"], std::string(e.prefix));
  EXPECT_TRUE(decoded(kHead).prefix.empty());
  EXPECT_FALSE(fields_json(decoded(kHead)).contains("prefix"));
  EXPECT_EQ(kuma_view(decoded(kHead)).extra.count("cefPrefix"), 0u);
}

TEST(CefAlgorithm, MalformedExtensionDiscardsTheLeadingText) {
  const std::string in = kHead + "garbage here a=b c=d";
  Event e;
  const DecodeResult err = decode(in, e);
  ASSERT_TRUE(err);
  EXPECT_EQ(err->offset, kHead.size());
  EXPECT_EQ(e.failure, Failure::malformed_extension);
  EXPECT_EQ(e.discarded, "garbage here");
  EXPECT_EQ(fields_json(e)["extensions"], json({{"a", "b"}, {"c", "d"}}));
  EXPECT_EQ(fields_json(e)["name"], "N");
  Lints lints;
  add_lints(e, lints);
  EXPECT_EQ(lint_detail(lints, LintId::cef_malformed_extension), "garbage here");
  EXPECT_EQ(kuma_view(e).extra.at("a"), "b");
}

TEST(CefAlgorithm, MalformedExtensionWithoutAnyPair) {
  for (const std::string rest : {"just text", "=x", "1a=b", " =b", "\ta=b", "a b"}) {
    SCOPED_TRACE(rest);
    const std::string in = kHead + rest;
    Event e;
    ASSERT_TRUE(decode(in, e));
    EXPECT_TRUE(e.extensions.empty());
    EXPECT_EQ(e.failure, Failure::malformed_extension);
    Lints lints;
    add_lints(e, lints);
    EXPECT_TRUE(has_lint(lints, LintId::cef_malformed_extension));
  }
  const std::string in = kHead + "=x a=b";
  Event e;
  decode(in, e);
  EXPECT_EQ(e.discarded, "=x");
  EXPECT_EQ(e.extensions.size(), 1u);
}

TEST(CefAlgorithm, MalformedExtensionDetailIsShortValidUtf8) {
  const std::string junk = std::string(63, 'j') + "\xC3\xA9\xC3\xA9 \xFF";  // byte 64 is inside an é
  const std::string in = kHead + junk + " a=b";
  Event e;
  decode(in, e);
  Lints lints;
  add_lints(e, lints);
  EXPECT_EQ(lint_detail(lints, LintId::cef_malformed_extension), std::string(63, 'j') + "\xE2\x80\xA6");
  const std::string bad = kHead + "\xFF\xFE a=b";
  decode(bad, e);
  lints.clear();
  add_lints(e, lints);
  EXPECT_EQ(lint_detail(lints, LintId::cef_malformed_extension), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(CefAlgorithm, DuplicateKeysLastWins) {
  const std::string in = kHead + "a=1 b=2 a=3 b=4 c=5";
  EXPECT_EQ(ext(in), json({{"a", "3"}, {"b", "4"}, {"c", "5"}}));
  EXPECT_EQ(lint_detail(lints_of(in), LintId::cef_duplicate_key), "a,b");
  EXPECT_EQ(kuma_view(decoded(kHead + "msg=first msg=second")).fields.at("Message"), "second");
  EXPECT_FALSE(has_lint(lints_of(kHead + "a=1 b=2"), LintId::cef_duplicate_key));
}

TEST(CefAlgorithm, DuplicateKeysInLongExtensions) {
  std::string in = kHead;
  for (int i = 0; i < 40; ++i) in += "k" + std::to_string(i) + "=v ";
  EXPECT_FALSE(decoded(in).duplicate_keys);
  in += "k7=again";
  const Event& e = decoded(in);
  EXPECT_TRUE(e.duplicate_keys);
  EXPECT_EQ(lint_detail(lints_of(in), LintId::cef_duplicate_key), "k7");
  EXPECT_EQ(fields_json(e)["extensions"]["k7"], "again");
}

TEST(CefAlgorithm, EventIsReusedAcrossDecodes) {
  Event e;
  std::string many = kHead;
  for (int i = 0; i < 20; ++i) many += "k" + std::to_string(i) + "=v ";
  ASSERT_FALSE(decode(many, e));
  const std::size_t capacity = e.extensions.capacity();
  const Extension* storage = e.extensions.data();
  ASSERT_FALSE(decode("x CEF:1|V|P|1|c|N|5", e));
  EXPECT_EQ(e.extensions.capacity(), capacity);
  EXPECT_EQ(e.extensions.data(), storage);
  EXPECT_TRUE(e.extensions.empty());
  EXPECT_TRUE(e.missing_trailing_pipe);
  EXPECT_EQ(e.prefix, "x ");
  ASSERT_TRUE(decode("nothing", e));
  EXPECT_EQ(e.header_fields, 0u);
  EXPECT_TRUE(e.prefix.empty());
  EXPECT_EQ(e.version, -1);
}

#if defined(__SANITIZE_ADDRESS__)
std::atomic<int> g_allocations{0};
std::atomic<bool> g_counting{false};
void count_malloc(const volatile void*, std::size_t) {
  if (g_counting) ++g_allocations;
}
void ignore_free(const volatile void*) {}

TEST(CefAlgorithm, SuccessPathDoesNotAllocate) {
  static const bool installed = __sanitizer_install_malloc_and_free_hooks(count_malloc, ignore_free) != 0;
  if (!installed) GTEST_SKIP() << "no sanitizer malloc hooks";
  const std::string line = "CEF:1|Deckhouse|log-shipper-agent|1|Log event|Deckhouse Event|5|file=/var/log/a.log "
                           "host=master-0 hostip=10.0.0.5 message={\"requestURI\":\"/x?a\\=1\",\"u\":\"a b\"} "
                           "timestamp=2025-01-15T10:20:30.130512345+03:00";
  Event e;
  ASSERT_FALSE(decode(line, e));  // grows the vector once
  g_allocations = 0;
  g_counting = true;
  for (int i = 0; i < 100; ++i) (void)decode(line, e);
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0);
}
#endif

// ------------------------------------------------------------- robustness

TEST(CefRobustness, RandomInputNeverBreaksTheDecoder) {
  std::mt19937 rng(20250115);
  const std::string alphabet = "CEF:|\\= ab_.19\r\n\t\xC3\xFF";
  std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1), len(0, 60);
  Event e;
  for (int i = 0; i < 20000; ++i) {
    std::string in = i % 2 ? "CEF:0|" : "";
    for (std::size_t n = len(rng); n > 0; --n) in += alphabet[pick(rng)];
    const std::string copy = in;  // exact-size heap buffer: ASan sees any read past the end
    const DecodeResult err = decode(copy, e);
    if (err) {
      EXPECT_LE(err->offset, copy.size());
      EXPECT_FALSE(err->reason.empty());
    }
    Lints lints;
    add_lints(e, lints);
    (void)kuma_view(e);
    EXPECT_NO_THROW((void)fields_json(e).dump(-1, ' ', false, json::error_handler_t::replace));
  }
}

// ------------------------------------------------------------- §4.2 KUMA view

TEST(CefKuma, HeaderAndVersion) {
  const KumaEvent k = kuma_view(decoded(R"(CEF:0|Kaspersky|NGFW\|x|1.1|Firewall|Session start|Unknown|)"));
  EXPECT_EQ(k.fields, (std::map<std::string, std::string>{{"DeviceVendor", "Kaspersky"},
                                                          {"DeviceProduct", "NGFW|x"},
                                                          {"DeviceVersion", "1.1"},
                                                          {"DeviceEventClassID", "Firewall"},
                                                          {"Name", "Session start"},
                                                          {"Severity", "Unknown"}}));
  EXPECT_EQ(k.extra, (std::map<std::string, std::string>{{"cefVersion", "0"}}));
  EXPECT_FALSE(k.raw);
}

TEST(CefKuma, EveryDictionaryKey) {
  const std::vector<std::pair<std::string, std::string>> table = {
      {"msg", "Message"}, {"src", "SourceAddress"}, {"dst", "DestinationAddress"}, {"spt", "SourcePort"},
      {"dpt", "DestinationPort"}, {"shost", "SourceHostName"}, {"dhost", "DestinationHostName"},
      {"suser", "SourceUserName"}, {"duser", "DestinationUserName"}, {"dvc", "DeviceAddress"},
      {"dvchost", "DeviceHostName"}, {"act", "DeviceAction"}, {"app", "ApplicationProtocol"},
      {"proto", "TransportProtocol"}, {"cat", "DeviceEventCategory"}, {"outcome", "EventOutcome"},
      {"reason", "Reason"}, {"request", "RequestUrl"}, {"requestMethod", "RequestMethod"}, {"in", "BytesIn"},
      {"out", "BytesOut"}, {"rt", "DeviceReceiptTime"}, {"start", "StartTime"}, {"end", "EndTime"},
      {"externalId", "ExternalID"}, {"fname", "FileName"}, {"deviceProcessName", "DeviceProcessName"}};
  std::vector<std::pair<std::string, std::string>> all = table;
  for (int i = 1; i <= 6; ++i) {
    all.emplace_back("cs" + std::to_string(i), "DeviceCustomString" + std::to_string(i));
    all.emplace_back("cs" + std::to_string(i) + "Label", "DeviceCustomString" + std::to_string(i) + "Label");
  }
  for (int i = 1; i <= 3; ++i) {
    all.emplace_back("cn" + std::to_string(i), "DeviceCustomNumber" + std::to_string(i));
    all.emplace_back("cn" + std::to_string(i) + "Label", "DeviceCustomNumber" + std::to_string(i) + "Label");
  }
  std::string line = kHead;
  for (const auto& [key, field] : all) line += key + "=" + (field.ends_with("Address") ? "10.1.2.3" : "v " + key) + " ";
  const std::string in = line + "custom=x";
  const KumaEvent k = kuma_view(decoded(in));
  for (const auto& [key, field] : all) {
    SCOPED_TRACE(key);
    EXPECT_TRUE(is_dictionary_key(key));
    EXPECT_EQ(k.fields.at(field), field.ends_with("Address") ? "10.1.2.3" : "v " + key);
  }
  EXPECT_EQ(k.fields.size(), all.size() + 6);
  EXPECT_EQ(k.extra, (std::map<std::string, std::string>{{"cefVersion", "0"}, {"custom", "x"}}));
  EXPECT_EQ(lint_detail(lints_of(in), LintId::cef_nonstandard_extension_keys), "custom");
}

TEST(CefKuma, FullNamesAndOtherCaseAreNotDictionaryKeys) {
  const KumaEvent k = kuma_view(decoded(kHead + "message=m sourceAddress=1.2.3.4 MSG=x"));
  EXPECT_EQ(k.fields.count("Message"), 0u);
  EXPECT_EQ(k.extra.at("message"), "m");
  EXPECT_EQ(k.extra.at("sourceAddress"), "1.2.3.4");
  EXPECT_EQ(k.extra.at("MSG"), "x");
}

TEST(CefKuma, AddressFieldsDropWhatIsNotAnIp) {
  const KumaEvent k = kuma_view(decoded(kHead + R"(src="192.168.0.1" dst=2001:db8::1 dvc=host.example)"));
  EXPECT_EQ(k.fields.count("SourceAddress"), 0u);
  EXPECT_EQ(k.fields.at("DestinationAddress"), "2001:db8::1");
  EXPECT_EQ(k.fields.count("DeviceAddress"), 0u);
  EXPECT_EQ(k.extra.count("src"), 0u);  // dropped silently, not moved to Extra
  EXPECT_EQ(kuma_view(decoded(kHead + "src=192.168.0.1")).fields.at("SourceAddress"), "192.168.0.1");
  EXPECT_EQ(kuma_view(decoded(kHead + std::string("src=1.2.3.4\0x", 13))).fields.count("SourceAddress"), 0u);
}

TEST(CefKuma, NonstandardKeysAreListedOnceInOrder) {
  const std::string in = kHead + "zeta=1 msg=2 alpha=3 zeta=4 cs1=5 beta=6";
  EXPECT_EQ(lint_detail(lints_of(in), LintId::cef_nonstandard_extension_keys), "zeta,alpha,beta");
  EXPECT_FALSE(has_lint(lints_of(kHead + "msg=1 src=10.0.0.1"), LintId::cef_nonstandard_extension_keys));
}

TEST(CefKuma, LintsComeInCatalogOrder) {
  const std::string in = "CEF:7|" + std::string(64, 'v') + R"(|P|1|c|N|x|junk a=b\|=\q a=2 own=1)";
  EXPECT_EQ(lint_names(lints_of(in)),
            (std::vector<std::string>{"cef-version-unknown", "cef-malformed-extension", "cef-unescaped-equals",
                                      "cef-pipe-escape-in-extension", "cef-invalid-escape", "cef-duplicate-key",
                                      "cef-severity-invalid", "cef-header-field-too-long",
                                      "cef-nonstandard-extension-keys"}));
}

// §7 row 3 and §13: the default DKP CEF line as KUMA sees it.
const std::string& kAudit = kumasim::testing::kAuditLine;

std::string dkp_line() {
  std::string escaped = kAudit;
  escaped.replace(escaped.find("timeout=10s"), 11, "timeout\\=10s");
  return "CEF:1|Deckhouse|log-shipper-agent|1|Log event|Deckhouse Event|5|file=/var/log/kube-audit/audit.log "
         "host=master-0 hostip=10.0.0.5 message=" + escaped + " timestamp=2025-01-15T10:20:30.130512345+03:00";
}

TEST(CefKuma, DkpTcpCefConfiguration) {
  const Event& e = decoded(dkp_line());
  const KumaEvent k = kuma_view(e);
  EXPECT_EQ(k.fields, (std::map<std::string, std::string>{{"DeviceVendor", "Deckhouse"},
                                                          {"DeviceProduct", "log-shipper-agent"},
                                                          {"DeviceVersion", "1"},
                                                          {"DeviceEventClassID", "Log event"},
                                                          {"Name", "Deckhouse Event"},
                                                          {"Severity", "5"}}));
  EXPECT_EQ(k.extra, (std::map<std::string, std::string>{{"file", "/var/log/kube-audit/audit.log"},
                                                         {"host", "master-0"},
                                                         {"hostip", "10.0.0.5"},
                                                         {"message", kAudit},
                                                         {"timestamp", "2025-01-15T10:20:30.130512345+03:00"},
                                                         {"cefVersion", "1"}}));
  Lints lints;
  add_lints(e, lints);
  EXPECT_EQ(lints, (Lints{{LintId::cef_version_1, ""},
                          {LintId::cef_nonstandard_extension_keys, "file,host,hostip,message,timestamp"}}));
}

}  // namespace
}  // namespace kumasim::formats::cef
