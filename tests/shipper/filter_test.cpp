#include "shipper/pipeline/filter.h"

#include "support/test_data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include <sstream>

namespace kumasim::shipper {
namespace {

const FieldPath kParsedData = {PathSegment{"parsed_data"}};

Condition compiled(FilterSpec spec, const FieldPath& base = kParsedData) {
  auto result = Condition::compile(spec, base);
  if (auto* error = std::get_if<FilterError>(&result)) {
    ADD_FAILURE() << spec.field << ": " << error->code << ": " << error->message;
    return std::get<Condition>(Condition::compile(FilterSpec{}, base));
  }
  return std::get<Condition>(std::move(result));
}

FilterError compile_error(FilterSpec spec, const FieldPath& base = kParsedData) {
  auto result = Condition::compile(spec, base);
  if (auto* error = std::get_if<FilterError>(&result)) return *error;
  ADD_FAILURE() << spec.field << " compiled";
  return {};
}

// A logFilter event whose parsed_data holds one field per column of §7.3.
nlohmann::json typed_event() {
  return {{"message", "{}"},
          {"parsed_data",
           nlohmann::json::parse(R"({"n":null,"s":"abc","i":200,"f":1.5,"b":true,"a":["abc"],"o":{"k":"abc"}})")}};
}

bool keeps(const FilterSpec& spec, const nlohmann::json& event) { return compiled(spec).keep(event); }

// ------------------------------------------------------------- §7.3 table

constexpr const char* kColumns[] = {"missing", "n", "s", "i", "f", "b", "a", "o"};
constexpr const char* kColumnNames[] = {"missing", "null", "string", "integer", "float", "bool", "array", "object"};

struct Row {
  const char* name;
  FilterOperator op;
  std::vector<FilterValue> values;
  std::string expected;  // one of K (keep) / D (drop) per column of kColumns
};

TEST(OperatorTable, EveryOperatorOnEveryType) {
  const std::vector<Row> rows = {
      {"Exists", FilterOperator::exists, {}, "DKKKKKKK"},
      {"DoesNotExist", FilterOperator::does_not_exist, {}, "KDDDDDDD"},
      // Each typed F listed in its own form: "abc", 200, "1.5", "true".
      {"In listed", FilterOperator::in, {"abc", std::int64_t{200}, "1.5", "true"}, "DDKKKKDD"},
      {"In not listed", FilterOperator::in, {"zzz", std::int64_t{7}}, "DDDDDDDD"},
      {"NotIn listed", FilterOperator::not_in, {"abc", std::int64_t{200}, "1.5", "true"}, "DDDDDDKK"},
      {"NotIn not listed", FilterOperator::not_in, {"zzz", std::int64_t{7}}, "DDKKKKKK"},
      {"Regex matching", FilterOperator::regex, {"a.*"}, "DDKDDDDD"},
      {"Regex not matching", FilterOperator::regex, {"z"}, "DDDDDDDD"},
      {"NotRegex matching", FilterOperator::not_regex, {"a.*"}, "KKDKKKKK"},
      {"NotRegex not matching", FilterOperator::not_regex, {"z"}, "KKKKKKKK"},
  };
  const nlohmann::json event = typed_event();
  for (const Row& row : rows) {
    ASSERT_EQ(row.expected.size(), std::size(kColumns));
    for (std::size_t column = 0; column < std::size(kColumns); ++column) {
      const bool kept = keeps(FilterSpec{kColumns[column], row.op, row.values}, event);
      EXPECT_EQ(kept ? 'K' : 'D', row.expected[column]) << row.name << " on F " << kColumnNames[column];
    }
  }
}

TEST(OperatorTable, InIsTypeSensitive) {
  const auto event = [](nlohmann::json value) { return nlohmann::json{{"parsed_data", {{"code", value}}}}; };
  const auto in = [](std::vector<FilterValue> values) { return FilterSpec{"code", FilterOperator::in, values}; };
  EXPECT_TRUE(keeps(in({std::int64_t{200}}), event(200)));
  EXPECT_FALSE(keeps(in({"200"}), event(200)));
  EXPECT_TRUE(keeps(in({"200"}), event("200")));
  EXPECT_FALSE(keeps(in({std::int64_t{200}}), event("200")));
  EXPECT_FALSE(keeps(in({std::int64_t{42}}), event("42")));
  EXPECT_FALSE(keeps(in({"20"}), event("200")));  // no substring match
  // A float or boolean F is compared as its VRL string: 2.0 is "2".
  EXPECT_TRUE(keeps(in({"2"}), event(2.0)));
  EXPECT_FALSE(keeps(in({std::int64_t{2}}), event(2.0)));
  EXPECT_FALSE(keeps(in({"2.0"}), event(2.0)));
  EXPECT_TRUE(keeps(in({"false"}), event(false)));
  EXPECT_TRUE(keeps(in({"0.000001"}), event(1e-6)));
  // NotIn with the same typing.
  EXPECT_TRUE(keeps(FilterSpec{"code", FilterOperator::not_in, {"200"}}, event(200)));
  EXPECT_FALSE(keeps(FilterSpec{"code", FilterOperator::not_in, {std::int64_t{200}}}, event(200)));
}

TEST(OperatorTable, ArrayFieldNeverInEvenWhenItHoldsTheValue) {
  const nlohmann::json event = {{"parsed_data", {{"user", {{"groups", {"system:masters"}}}}}}};
  EXPECT_FALSE(keeps(FilterSpec{"user.groups", FilterOperator::in, {"system:masters"}}, event));
  EXPECT_TRUE(keeps(FilterSpec{"user.groups[0]", FilterOperator::in, {"system:masters"}}, event));
  EXPECT_TRUE(keeps(FilterSpec{"user.groups[-1]", FilterOperator::in, {"system:masters"}}, event));
  EXPECT_FALSE(keeps(FilterSpec{"user.groups[1]", FilterOperator::exists, {}}, event));
}

TEST(OperatorTable, EmptyLogFilterFieldIsTheWholeParsedData) {
  const nlohmann::json event = {{"message", "plain text"}, {"parsed_data", "plain text"}};
  EXPECT_TRUE(keeps(FilterSpec{"", FilterOperator::regex, {"plain.*"}}, event));
  EXPECT_TRUE(keeps(FilterSpec{"", FilterOperator::in, {"plain text"}}, event));
  EXPECT_FALSE(keeps(FilterSpec{"x", FilterOperator::exists, {}}, event));  // through a string
}

// ------------------------------------------------------------- §7.4 regex

TEST(Anchoring, ValuesAreAnchoredTextually) {
  EXPECT_EQ(anchored_pattern("kubelet.*"), "^kubelet.*$");
  EXPECT_EQ(anchored_pattern("^abc"), "^abc$");
  EXPECT_EQ(anchored_pattern("abc$"), "^abc$");
  EXPECT_EQ(anchored_pattern("a|b"), "^a|b$");
  EXPECT_EQ(anchored_pattern(R"(cost\$)"), R"(^cost\$)");  // no anchor after an escaped `\$`
  EXPECT_EQ(anchored_pattern(""), "^$");
}

TEST(Anchoring, MatchingIsASearchForTheAnchoredPattern) {
  const nlohmann::json kubelet = {{"parsed_data", {{"userAgent", "kubelet/v1.29.4 (linux/amd64) kubernetes/55019c8"}}}};
  const nlohmann::json other = {{"parsed_data", {{"userAgent", "my-kubelet/v1"}}}};
  const FilterSpec spec{"userAgent", FilterOperator::regex, {"kubelet.*"}};
  EXPECT_TRUE(keeps(spec, kubelet));
  EXPECT_FALSE(keeps(spec, other));

  const auto text = [](std::string s) { return nlohmann::json{{"parsed_data", {{"v", s}}}}; };
  const FilterSpec alternation{"v", FilterOperator::regex, {"a|b"}};  // ^a|b$
  EXPECT_TRUE(keeps(alternation, text("axx")));   // starts with a
  EXPECT_TRUE(keeps(alternation, text("xxb")));   // ends with b
  EXPECT_FALSE(keeps(alternation, text("xbx")));
  const FilterSpec caret{"v", FilterOperator::regex, {"^abc"}};
  EXPECT_TRUE(keeps(caret, text("abc")));
  EXPECT_FALSE(keeps(caret, text("abcd")));
  const FilterSpec dollar{"v", FilterOperator::regex, {R"(cost\$)"}};  // ^cost\$ : no end anchor
  EXPECT_TRUE(keeps(dollar, text("cost$")));
  EXPECT_TRUE(keeps(dollar, text("cost$ and more")));
  EXPECT_FALSE(keeps(dollar, text("a cost$")));
  const FilterSpec any_of{"v", FilterOperator::regex, {"x", "ab."}};  // the values are an OR
  EXPECT_TRUE(keeps(any_of, text("abc")));
  EXPECT_FALSE(keeps(FilterSpec{"v", FilterOperator::not_regex, {"x", "ab."}}, text("abc")));
  EXPECT_FALSE(keeps(FilterSpec{"v", FilterOperator::regex, {"a.c"}}, text("a\nc")));  // `.` is not LF
}

TEST(Anchoring, IntegerRegexValueIsUnanchoredDecimalText) {
  // DKP's matchFullRegexp anchors strings only.
  const nlohmann::json event = {{"parsed_data", {{"v", "HTTP 200 OK"}}}};
  EXPECT_TRUE(keeps(FilterSpec{"v", FilterOperator::regex, {std::int64_t{200}}}, event));
  EXPECT_FALSE(keeps(FilterSpec{"v", FilterOperator::regex, {"200"}}, event));
}

TEST(UnicodeClasses, ClassesAreUnicodeAsInRust) {
  const auto text = [](std::string s) { return nlohmann::json{{"parsed_data", {{"v", s}}}}; };
  const auto regex = [](std::string pattern) { return FilterSpec{"v", FilterOperator::regex, {pattern}}; };
  const std::string arabic_three = "\xD9\xA3";  // U+0663 ARABIC-INDIC DIGIT THREE
  EXPECT_FALSE(RE2::FullMatch(arabic_three, R"(\d+)"));  // RE2 on its own is ASCII
  EXPECT_TRUE(keeps(regex(R"(\d+)"), text(arabic_three)));
  EXPECT_FALSE(keeps(regex(R"(\D+)"), text(arabic_three)));
  EXPECT_TRUE(keeps(regex(R"(\w+)"), text("Привет_42")));
  EXPECT_TRUE(keeps(regex(R"(\w)"), text("\xE2\x93\x90")));  // U+24D0 circled a: Other_Alphabetic
  EXPECT_FALSE(keeps(regex(R"(\w)"), text("\xE2\x80\x94")));  // U+2014 em dash
  EXPECT_TRUE(keeps(regex(R"(a\sb)"), text("a\xC2\xA0" "b")));  // U+00A0
  EXPECT_TRUE(keeps(regex(R"(a\sb)"), text("a\xE2\x80\xA8" "b")));  // U+2028
  EXPECT_FALSE(keeps(regex(R"(a\sb)"), text("a\xE2\x80\x8B" "b")));  // U+200B is not White_Space
  EXPECT_TRUE(keeps(regex(R"(a\Sb)"), text("a\xE2\x80\x8B" "b")));
  EXPECT_FALSE(keeps(regex(R"(\W)"), text("\xC3\xA9")));  // é is a word character
  // Inside classes, including the negated forms.
  EXPECT_TRUE(keeps(regex(R"([\d_]+)"), text(arabic_three + "_")));
  EXPECT_TRUE(keeps(regex(R"([^\W\d_]+)"), text("Жж")));   // letters only
  EXPECT_FALSE(keeps(regex(R"([^\W\d_]+)"), text("Ж1")));
  EXPECT_TRUE(keeps(regex(R"([\W]+)"), text("\xE2\x80\x94!")));
  EXPECT_FALSE(keeps(regex(R"([\W]+)"), text("\xC3\xA9")));
  EXPECT_TRUE(keeps(regex(R"([\S]+)"), text("ж")));
  EXPECT_FALSE(keeps(regex(R"([^\s]+)"), text("a\xE3\x80\x80" "b")));  // U+3000
  EXPECT_TRUE(keeps(regex(R"([\s]+)"), text("\xC2\x85")));  // U+0085
}

TEST(UnicodeClasses, EscapedBackslashIsNotAClass) {
  const nlohmann::json event = {{"parsed_data", {{"v", R"(a\d)"}}}};
  EXPECT_TRUE(keeps(FilterSpec{"v", FilterOperator::regex, {R"(a\\d)"}}, event));
  EXPECT_EQ(anchored_pattern(R"(a\\d)"), R"(^a\\d$)");
  EXPECT_EQ(anchored_pattern(R"(\d\\w)"), R"(^\p{Nd}\\w$)");
}

TEST(RustSyntax, RustOnlySpellingsAreTranslated) {
  const auto text = [](std::string s) { return nlohmann::json{{"parsed_data", {{"v", s}}}}; };
  EXPECT_TRUE(keeps(FilterSpec{"v", FilterOperator::regex, {R"(caf\u00e9)"}}, text("café")));
  EXPECT_TRUE(keeps(FilterSpec{"v", FilterOperator::regex, {R"(caf\u{E9})"}}, text("café")));
  EXPECT_TRUE(keeps(FilterSpec{"v", FilterOperator::regex, {"(?<verb>get|list)"}}, text("list")));
  EXPECT_TRUE(keeps(FilterSpec{"v", FilterOperator::regex, {"(?i)GET"}}, text("get")));
  EXPECT_TRUE(keeps(FilterSpec{"v", FilterOperator::regex, {"[[:digit:]]{3}"}}, text("200")));
  EXPECT_TRUE(keeps(FilterSpec{"v", FilterOperator::regex, {R"(\p{Greek}+)"}}, text("αβ")));
  EXPECT_TRUE(keeps(FilterSpec{"v", FilterOperator::regex, {R"(it\'s)"}}, text("it's")));  // VRL unescapes \'
}

TEST(RustSyntax, InvalidOrUnreproducibleValuesAreReported) {
  const auto error = [](std::string pattern) {
    return compile_error(FilterSpec{"v", FilterOperator::regex, {pattern}});
  };
  FilterError broken = error("abc(");
  EXPECT_EQ(broken.code, "regex-invalid");
  EXPECT_NE(broken.message.find("\"abc(\""), std::string::npos);
  EXPECT_NE(broken.message.find("missing )"), std::string::npos);  // RE2's own words
  EXPECT_EQ(error("it's").code, "regex-invalid");   // ends DKP's r'...'
  EXPECT_EQ(error("a{b").code, "regex-invalid");    // Rust wants `\{`
  EXPECT_EQ(error(R"((a)\1)").code, "regex-invalid");
  EXPECT_EQ(error("(?=a)").code, "regex-invalid");  // no look-around in either
  EXPECT_EQ(error("[a[b]]").code, "regex-unsupported");
  EXPECT_EQ(error("[a-z&&[^x]]").code, "regex-unsupported");
  EXPECT_EQ(error("(?x) a").code, "regex-unsupported");
  EXPECT_EQ(error(R"(\<word)").code, "regex-unsupported");
  EXPECT_EQ(compile_error(FilterSpec{"v", FilterOperator::not_regex, {"("}}).code, "regex-invalid");
  // In/NotIn values are not patterns.
  EXPECT_TRUE(std::holds_alternative<Condition>(Condition::compile(FilterSpec{"v", FilterOperator::in, {"("}}, kParsedData)));
}

TEST(RegexMatching, InvalidUtf8IsMatchedInItsLossyForm) {
  const nlohmann::json event = {{"message", std::string("a\xFF" "b")}};
  const FilterSpec spec{"message", FilterOperator::regex, {"a.b"}};
  EXPECT_TRUE(compiled(spec, {}).keep(event));
  EXPECT_TRUE(compiled(FilterSpec{"message", FilterOperator::regex, {"a\xEF\xBF\xBD" "b"}}, {}).keep(event));
}

// ------------------------------------------------------------- paths

TEST(FilterPaths, BadFieldsAreConfigErrors) {
  const FilterError unquoted = compile_error(FilterSpec{"annotations.authorization.k8s.io/decision", FilterOperator::exists, {}});
  EXPECT_EQ(unquoted.code, "filter-path-invalid");
  EXPECT_NE(unquoted.message.find("at byte 32"), std::string::npos);
  EXPECT_EQ(compile_error(FilterSpec{".userAgent", FilterOperator::exists, {}}).code, "filter-path-invalid");
  // `.parsed_data.[0]` is not VRL; from the root `.[0]` is (and always missing).
  EXPECT_EQ(compile_error(FilterSpec{"[0]", FilterOperator::exists, {}}).code, "filter-path-invalid");
  EXPECT_FALSE(compiled(FilterSpec{"[0]", FilterOperator::exists, {}}, {}).keep(typed_event()));
}

TEST(FilterPaths, LabelFilterReadsFromTheRoot) {
  const nlohmann::json event = {{"file", "/var/log/kube-audit/audit.log"}, {"host", "master-0"}};
  EXPECT_TRUE(compiled(FilterSpec{"file", FilterOperator::in, {"/var/log/kube-audit/audit.log"}}, {}).keep(event));
  EXPECT_FALSE(compiled(FilterSpec{"host", FilterOperator::regex, {"master"}}, {}).keep(event));
  EXPECT_TRUE(compiled(FilterSpec{"host", FilterOperator::regex, {"master.*"}}, {}).keep(event));
}

std::vector<std::string> fixture_lines(const std::string& name) {
  std::istringstream in(testing::read_file("fixtures/audit/" + name));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

TEST(FilterPaths, QuotedAnnotationOnRealAuditRecords) {
  const Condition allowed = compiled(
      FilterSpec{R"(annotations."authorization.k8s.io/decision")", FilterOperator::in, {"allow"}});
  const Condition not_allowed = compiled(
      FilterSpec{R"(annotations."authorization.k8s.io/decision")", FilterOperator::not_in, {"allow"}});
  const Condition service_account =
      compiled(FilterSpec{"user.username", FilterOperator::regex, {"system:serviceaccount:.*"}});
  const auto with_annotations = fixture_lines("sysdiglabs-aks-audit-log.log");
  ASSERT_EQ(with_annotations.size(), 24u);
  int service_accounts = 0;
  for (const std::string& line : with_annotations) {
    const nlohmann::json event = {{"message", line}, {"parsed_data", nlohmann::json::parse(line)}};
    EXPECT_TRUE(allowed.keep(event));
    EXPECT_FALSE(not_allowed.keep(event));
    service_accounts += service_account.keep(event);
  }
  EXPECT_EQ(service_accounts, 9);  // grep -c "\"username\":\"system:serviceaccount:"
  const auto without = fixture_lines("audit2rbac-demo.log");
  ASSERT_FALSE(without.empty());
  const nlohmann::json event = {{"message", without.front()}, {"parsed_data", nlohmann::json::parse(without.front())}};
  EXPECT_FALSE(allowed.keep(event));
  EXPECT_FALSE(not_allowed.keep(event));  // NotIn drops a missing field
}

TEST(KeepAll, EveryConditionMustKeep) {
  const nlohmann::json event = typed_event();
  const std::vector<Condition> both = {compiled(FilterSpec{"s", FilterOperator::exists, {}}),
                                       compiled(FilterSpec{"i", FilterOperator::in, {std::int64_t{200}}})};
  EXPECT_TRUE(keep_all(both, event));
  const std::vector<Condition> one_fails = {both[0], compiled(FilterSpec{"i", FilterOperator::in, {"200"}})};
  EXPECT_FALSE(keep_all(one_fails, event));
  EXPECT_TRUE(keep_all({}, event));
}

}  // namespace
}  // namespace kumasim::shipper
