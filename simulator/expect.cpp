#include "simulator/expect.h"

#include "formats/json.h"
#include "formats/lint.h"
#include "formats/utf8.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <compare>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace kumasim::expect {

using nlohmann::json;

namespace {

constexpr std::size_t kMaxSamples = 10;         // failing events reported per expectation
constexpr std::size_t kMaxSampleString = 1024;  // bytes of a string kept in a reported event
constexpr std::size_t kMaxShown = 160;          // bytes of a value quoted in a reason
constexpr int kMaxDepth = 64;                   // nesting of request values and of "not"
// A field's JSON text is scanned for its nesting before parsing: the parse is
// iterative but the sub-match and the report recurse. Audit records are ~10 deep.
constexpr int kMaxFieldJsonDepth = 512;

// ---------------------------------------------------------------- text

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// The longest prefix of at most `max` bytes that does not split a character.
std::size_t boundary(std::string_view text, std::size_t max) {
  if (text.size() <= max) return text.size();
  std::size_t n = max;
  while (n > 0 && is_continuation(text[n])) --n;
  return n;
}

// `text` cut after `max` bytes with its full size, and valid UTF-8 whatever
// it was, so that reports always serialise.
std::string cut(std::string_view text, std::size_t max) {
  const std::size_t keep = boundary(text, max);
  std::string out;
  formats::utf8::append_lossy(text.substr(0, keep), out);
  if (keep < text.size()) out += "… (" + std::to_string(text.size()) + " bytes)";
  return out;
}

// A value as compact JSON for a message.
std::string shown(const json& value) {
  return cut(value.dump(-1, ' ', false, json::error_handler_t::replace), kMaxShown);
}

std::string quote(std::string_view text) { return shown(json(text)); }

std::string with_article(const json& value) {
  const std::string_view name = value.type_name();
  if (value.is_null()) return "null";
  return (name == "object" || name == "array" ? "an " : "a ") + std::string(name);
}

void append(std::string& out, std::string_view separator, const std::string& part) {
  if (part.empty()) return;
  if (!out.empty()) out += separator;
  out += part;
}

// ---------------------------------------------------------------- numbers

// A JSON number kept exact: nanosecond timestamps need all 64 bits, which a
// double does not have.
using Number = std::variant<std::int64_t, std::uint64_t, double>;

std::optional<Number> json_number(const json& value) {
  switch (value.type()) {
    case json::value_t::number_integer: return value.get<std::int64_t>();
    case json::value_t::number_unsigned: return value.get<std::uint64_t>();
    case json::value_t::number_float: return value.get<double>();
    default: return std::nullopt;
  }
}

// A string that is a number and nothing else ("5", "-1.5e3"); KUMA keeps
// header fields such as Severity as strings.
std::optional<Number> text_number(std::string_view text) {
  const char* end = text.data() + text.size();
  std::int64_t i = 0;
  if (auto [p, ec] = std::from_chars(text.data(), end, i); ec == std::errc{} && p == end) return i;
  std::uint64_t u = 0;
  if (auto [p, ec] = std::from_chars(text.data(), end, u); ec == std::errc{} && p == end) return u;
  double d = 0;
  if (auto [p, ec] = std::from_chars(text.data(), end, d); ec == std::errc{} && p == end && std::isfinite(d)) return d;
  return std::nullopt;
}

std::optional<Number> comparable_number(const json& value) {
  if (value.is_string()) return text_number(value.get_ref<const std::string&>());
  return json_number(value);
}

template <typename A, typename B>
std::strong_ordering compare_integers(A a, B b) {
  if (std::cmp_less(a, b)) return std::strong_ordering::less;
  if (std::cmp_equal(a, b)) return std::strong_ordering::equal;
  return std::strong_ordering::greater;
}

// A double against an integer without rounding the integer: the integral
// parts decide, then the fraction.
template <typename Int>
std::partial_ordering compare_mixed(double d, Int x) {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d < -0x1p63) return std::partial_ordering::less;
  if (d >= 0x1p64) return std::partial_ordering::greater;
  const double whole = std::trunc(d);
  const std::partial_ordering order = whole < 0 ? compare_integers(static_cast<std::int64_t>(whole), x)
                                                : compare_integers(static_cast<std::uint64_t>(whole), x);
  return order != 0 ? order : d <=> whole;
}

std::partial_ordering compare(const Number& a, const Number& b) {
  return std::visit(
      [](auto x, auto y) -> std::partial_ordering {
        constexpr bool x_float = std::is_floating_point_v<decltype(x)>;
        constexpr bool y_float = std::is_floating_point_v<decltype(y)>;
        if constexpr (x_float && y_float) return x <=> y;
        else if constexpr (x_float) return compare_mixed(x, y);
        else if constexpr (y_float) return 0 <=> compare_mixed(y, x);
        else return compare_integers(x, y);
      },
      a, b);
}

// JSON equality where numbers compare by value (1 == 1.0) and nothing else
// converts: "5" is not 5.
bool same_value(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return compare(*json_number(a), *json_number(b)) == 0;
  if (a.type() != b.type()) return false;
  if (a.is_array()) return std::equal(a.begin(), a.end(), b.begin(), b.end(), same_value);
  if (!a.is_object()) return a == b;
  if (a.size() != b.size()) return false;
  for (const auto& [key, value] : a.items()) {
    const auto other = b.find(key);
    if (other == b.end() || !same_value(value, *other)) return false;
  }
  return true;
}

// ---------------------------------------------------------------- JSON sub-match

// Where a sub-match failed: the steps from the root (pushed while unwinding,
// so in reverse), the value there (null when missing) and the one expected.
struct Diff {
  std::vector<std::string> steps;
  const json* actual = nullptr;
  const json* expected = nullptr;
};

bool differs(const json& actual, const json& expected, Diff* diff) {
  if (diff) *diff = {{}, &actual, &expected};
  return false;
}

bool sub_match(const json& actual, const json& expected, Diff* diff);

bool object_sub_match(const json& actual, const json& expected, Diff* diff) {
  if (!actual.is_object()) return differs(actual, expected, diff);
  for (const auto& [key, want] : expected.items()) {
    const auto found = actual.find(key);
    if (found == actual.end()) {
      if (diff) *diff = {{}, nullptr, &want};
    } else if (sub_match(*found, want, diff)) {
      continue;
    }
    if (diff) diff->steps.push_back(key);
    return false;
  }
  return true;
}

bool array_sub_match(const json& actual, const json& expected, Diff* diff) {
  if (!actual.is_array() || actual.size() != expected.size()) return differs(actual, expected, diff);
  for (std::size_t i = 0; i < expected.size(); ++i) {
    if (sub_match(actual[i], expected[i], diff)) continue;
    if (diff) diff->steps.push_back(std::to_string(i));
    return false;
  }
  return true;
}

// Objects: every expected key present and sub-matching; arrays: same length,
// element-wise; scalars: same_value. Fills `diff` (when given) on failure.
bool sub_match(const json& actual, const json& expected, Diff* diff) {
  if (expected.is_object()) return object_sub_match(actual, expected, diff);
  if (expected.is_array()) return array_sub_match(actual, expected, diff);
  return same_value(actual, expected) || differs(actual, expected, diff);
}

bool nesting_within(std::string_view text, int limit) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      in_string = escaped || c != '"';
      escaped = !escaped && c == '\\';
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

// A string field's JSON text parsed; discarded when it is not JSON.
json parse_field(const std::string& text) {
  if (!nesting_within(text, kMaxFieldJsonDepth)) return json(json::value_t::discarded);
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

bool depth_within(const json& value, int limit) {
  if (!value.is_structured()) return true;
  if (limit == 0) return false;
  return std::all_of(value.begin(), value.end(), [&](const json& child) { return depth_within(child, limit - 1); });
}

// ---------------------------------------------------------------- matchers

enum class Op : std::uint8_t { lt, le, gt, ge, ne };

struct Bound {
  Op op;
  Number value;
  std::string text;  // "gt 3", for messages
};

struct Matcher;
struct Equals { json value; };
struct Regex { std::shared_ptr<const re2::RE2> re; };
struct Exists { bool present; };
struct Compare { std::vector<Bound> bounds; };
struct SubMatch { json value; };
struct HasLint { std::string id; std::optional<std::string> detail; };
struct Not { std::unique_ptr<Matcher> inner; };

struct Matcher {
  std::string field;              // as written; empty for lint and not
  std::vector<std::string> path;  // field split at unescaped dots
  std::variant<Equals, Regex, Exists, Compare, SubMatch, HasLint, Not> predicate;
};

std::optional<std::size_t> array_index(std::string_view step) {
  std::size_t index = 0;
  const char* end = step.data() + step.size();
  auto [p, ec] = std::from_chars(step.data(), end, index);
  if (ec != std::errc{} || p != end) return std::nullopt;
  return index;
}

// The value at `path`; nullptr when a step is missing. A step into an array
// is a decimal index.
const json* resolve(const json& root, const std::vector<std::string>& path) {
  const json* at = &root;
  for (const auto& step : path) {
    if (at->is_object()) {
      const auto found = at->find(step);
      if (found == at->end()) return nullptr;
      at = &*found;
    } else if (const auto index = at->is_array() ? array_index(step) : std::nullopt; index && *index < at->size()) {
      at = &(*at)[*index];
    } else {
      return nullptr;
    }
  }
  return at;
}

const json* value_of(const Matcher& m, const json& event) { return m.path.empty() ? nullptr : resolve(event, m.path); }

bool is_lint(const json& lint, const HasLint& want) {
  if (!lint.is_object()) return false;
  const auto id = lint.find("id");
  if (id == lint.end() || !id->is_string() || id->get_ref<const std::string&>() != want.id) return false;
  if (!want.detail) return true;
  const auto detail = lint.find("detail");
  return detail != lint.end() && detail->is_string() && detail->get_ref<const std::string&>() == *want.detail;
}

bool satisfies(const Number& value, const Bound& bound) {
  const std::partial_ordering order = compare(value, bound.value);
  switch (bound.op) {
    case Op::lt: return order < 0;
    case Op::le: return order <= 0;
    case Op::gt: return order > 0;
    case Op::ge: return order >= 0;
    case Op::ne: return order != 0;
  }
  return false;
}

bool holds(const Matcher& m, const json& event);

// Evaluates one predicate on the field's value (nullptr: missing).
struct Holds {
  const json* value;
  const json& event;

  bool operator()(const Equals& p) const { return value && same_value(*value, p.value); }
  bool operator()(const Regex& p) const {
    return value && value->is_string() && re2::RE2::PartialMatch(value->get_ref<const std::string&>(), *p.re);
  }
  bool operator()(const Exists& p) const { return (value != nullptr) == p.present; }
  bool operator()(const Compare& p) const {
    const auto number = value ? comparable_number(*value) : std::nullopt;
    return number && std::all_of(p.bounds.begin(), p.bounds.end(), [&](const Bound& b) { return satisfies(*number, b); });
  }
  bool operator()(const SubMatch& p) const {
    if (!value) return false;
    if (!value->is_string()) return sub_match(*value, p.value, nullptr);
    const json parsed = parse_field(value->get_ref<const std::string&>());
    return !parsed.is_discarded() && sub_match(parsed, p.value, nullptr);
  }
  bool operator()(const HasLint& p) const {
    const auto lints = event.find("lints");
    if (lints == event.end() || !lints->is_array()) return false;
    return std::any_of(lints->begin(), lints->end(), [&](const json& lint) { return is_lint(lint, p); });
  }
  bool operator()(const Not& p) const { return !holds(*p.inner, event); }
};

bool holds(const Matcher& m, const json& event) { return std::visit(Holds{value_of(m, event), event}, m.predicate); }

bool all_hold(const std::vector<Matcher>& list, const json& event) {
  return std::all_of(list.begin(), list.end(), [&](const Matcher& m) { return holds(m, event); });
}

// ---------------------------------------------------------------- explanations

// The predicate as a phrase: `equals "1"`, `gt 3, lt 10`, `not lint "x"`.
std::string describe(const Matcher& m) {
  struct Describe {
    std::string operator()(const Equals& p) const { return "equals " + shown(p.value); }
    std::string operator()(const Regex& p) const { return "regex " + quote(p.re->pattern()); }
    std::string operator()(const Exists& p) const { return p.present ? "exists true" : "exists false"; }
    std::string operator()(const Compare& p) const {
      std::string out;
      for (const auto& bound : p.bounds) append(out, ", ", bound.text);
      return out;
    }
    std::string operator()(const SubMatch& p) const { return "json " + shown(p.value); }
    std::string operator()(const HasLint& p) const {
      return "lint " + quote(p.id) + (p.detail ? " with detail " + quote(*p.detail) : "");
    }
    std::string operator()(const Not& p) const { return "not " + describe(*p.inner); }
  };
  return std::visit(Describe{}, m.predicate);
}

// The event's lints as the lint predicate sees them: ids, and details when
// the predicate asks for one.
std::string lints_shown(const json& event, bool with_detail) {
  json ids = json::array();
  const auto lints = event.find("lints");
  if (lints != event.end() && lints->is_array()) {
    for (const auto& lint : *lints) {
      const auto id = lint.is_object() ? lint.find("id") : lint.end();
      json entry = id != lint.end() ? *id : lint;
      if (with_detail) {
        entry = {{"id", entry}};
        if (const auto detail = lint.is_object() ? lint.find("detail") : lint.end(); detail != lint.end()) entry["detail"] = *detail;
      }
      ids.push_back(std::move(entry));
    }
  }
  return "lints are " + shown(ids);
}

// `actual` reduced to the keys `expected` names: the part of a long audit
// record that a "json" predicate looked at.
json project(const json& actual, const json& expected) {
  if (!actual.is_object() || !expected.is_object()) return actual;
  json out = json::object();
  for (const auto& [key, want] : expected.items()) {
    if (const auto found = actual.find(key); found != actual.end()) out[key] = project(*found, want);
  }
  return out;
}

// A "json" field as the predicate saw it: `message (as JSON) has {"verb":"get"}`.
std::string json_actual(const Matcher& m, const json& value, const SubMatch& p) {
  if (!value.is_string()) return m.field + " has " + shown(project(value, p.value));
  const json parsed = parse_field(value.get_ref<const std::string&>());
  if (parsed.is_discarded()) return m.field + " is " + shown(value) + " (not JSON)";
  return m.field + " (as JSON) has " + shown(project(parsed, p.value));
}

// What the matcher looked at: `kuma.Severity is "5"`, `x is missing`.
std::string actual(const Matcher& m, const json& event) {
  if (const auto* p = std::get_if<Not>(&m.predicate)) return actual(*p->inner, event);
  if (const auto* p = std::get_if<HasLint>(&m.predicate)) return lints_shown(event, p->detail.has_value());
  const json* value = value_of(m, event);
  if (const auto* p = std::get_if<SubMatch>(&m.predicate); p && value) return json_actual(m, *value, *p);
  return m.field + (value ? " is " + shown(*value) : " is missing");
}

// Why a present value could not match, when its type is the reason.
std::string type_note(const Matcher& m, const json* value) {
  if (!value) return "";
  if (const auto* p = std::get_if<Equals>(&m.predicate)) {
    const bool same_kind = value->is_number() ? p->value.is_number() : value->type() == p->value.type();
    return same_kind ? "" : " (" + with_article(*value) + ", not " + with_article(p->value) + ")";
  }
  if (std::holds_alternative<Regex>(m.predicate) && !value->is_string()) return " (not a string)";
  if (std::holds_alternative<Compare>(m.predicate) && !comparable_number(*value)) return " (not a number)";
  return "";
}

std::string join_steps(const std::vector<std::string>& reversed) {
  std::string out;
  for (auto step = reversed.rbegin(); step != reversed.rend(); ++step) {
    std::string escaped;
    for (const char c : *step) escaped += c == '.' ? std::string("\\.") : std::string(1, c);
    append(out, ".", escaped);
  }
  return out;
}

// A failed "json" predicate: the first place where the field's JSON differs.
std::string json_mismatch(const Matcher& m, const json& value, const SubMatch& p) {
  const json parsed = value.is_string() ? parse_field(value.get_ref<const std::string&>()) : json();
  if (parsed.is_discarded()) return m.field + " is " + shown(value) + " (not JSON), expected " + describe(m);
  Diff diff;
  sub_match(value.is_string() ? parsed : value, p.value, &diff);
  if (!diff.expected) return m.field + " is " + shown(value) + ", expected " + describe(m);  // it matched: not reached
  std::string place = m.field + (value.is_string() ? " (as JSON)" : "");
  if (!diff.steps.empty()) place += " at " + join_steps(diff.steps);
  return place + " is " + (diff.actual ? shown(*diff.actual) : "missing") + ", expected " + shown(*diff.expected);
}

// Why `m` does not hold for `event`: `kuma.Severity is "5", expected equals "1"`.
std::string mismatch(const Matcher& m, const json& event) {
  const json* value = value_of(m, event);
  if (const auto* p = std::get_if<SubMatch>(&m.predicate); p && value) return json_mismatch(m, *value, *p);
  return actual(m, event) + type_note(m, value) + ", expected " + describe(m);
}

// What a matcher that holds saw, for "none": `kuma.Severity is "5", matching equals "5"`.
std::string match(const Matcher& m, const json& event) { return actual(m, event) + ", matching " + describe(m); }

std::string item(std::string_view list, std::size_t index) {
  return std::string(list) + "[" + std::to_string(index) + "]";
}

// Every matcher of `list` that fails (every, some), or that holds (none).
std::string reasons(const std::vector<Matcher>& list, std::string_view name, const json& event, bool failing) {
  std::string out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (holds(list[i], event) == failing) continue;
    append(out, "; ", item(name, i) + ": " + (failing ? mismatch(list[i], event) : match(list[i], event)));
  }
  return out;
}

std::string event_label(const json& event, std::uint64_t position) {
  const auto id = event.find("id");
  if (id != event.end() && (id->is_number() || id->is_string())) return "event " + shown(*id);
  return "event #" + std::to_string(position);
}

// A copy of an event for the report: long strings cut (a raw frame can be
// 4 MB), invalid UTF-8 repaired, deep nesting elided, so memory stays bounded
// and the report always serialises.
json shrink(const json& value, int depth = 0) {
  if (value.is_string()) return cut(value.get_ref<const std::string&>(), kMaxSampleString);
  if (!value.is_structured()) return value;
  if (depth == kMaxDepth) return "…";
  json out = value.is_object() ? json::object() : json::array();
  for (const auto& [key, child] : value.items()) {
    if (out.is_object()) out[cut(key, kMaxSampleString)] = shrink(child, depth + 1);
    else out.push_back(shrink(child, depth + 1));
  }
  return out;
}

// ---------------------------------------------------------------- expectations

struct Count {
  std::optional<std::uint64_t> eq, min, max;
};

struct Expectation {
  std::optional<std::string> name;
  std::vector<Matcher> where, every, none, some;
  std::optional<Count> count;
};

bool count_ok(const Count& c, std::uint64_t n) {
  return (!c.eq || n == *c.eq) && (!c.min || n >= *c.min) && (!c.max || n <= *c.max);
}

bool count_exceeded(const Count& c, std::uint64_t n) { return (c.eq && n > *c.eq) || (c.max && n > *c.max); }

std::string describe(const Count& c) {
  std::string out;
  if (c.eq) append(out, ", ", "eq " + std::to_string(*c.eq));
  if (c.min) append(out, ", ", "min " + std::to_string(*c.min));
  if (c.max) append(out, ", ", "max " + std::to_string(*c.max));
  return out;
}

// ---------------------------------------------------------------- parsing

// Validation stops at the first error. The parser is a recursive descent, so
// the error travels up as an exception that parse() turns into a value.
struct Invalid {
  ParseError error;
};

[[noreturn]] void fail(const std::string& where, std::string message) { throw Invalid{{where, std::move(message)}}; }

std::string must_be(std::string_view key, std::string_view what, const json& got) {
  return quote(key) + " must be " + std::string(what) + ", got " + shown(got);
}

Matcher parse_matcher(const json& m, const std::string& where, int depth);

// A list of matchers, or one matcher object standing for a list of one.
std::vector<Matcher> parse_matchers(const json& value, const std::string& where, bool allow_empty) {
  std::vector<Matcher> out;
  if (value.is_object()) {
    out.push_back(parse_matcher(value, where, 0));
    return out;
  }
  if (!value.is_array()) fail(where, "expected a list of matchers, got " + shown(value));
  if (value.empty() && !allow_empty) fail(where, "empty list: give at least one matcher");
  for (std::size_t i = 0; i < value.size(); ++i) out.push_back(parse_matcher(value[i], item(where, i), 0));
  return out;
}

Matcher parse_not(const json& m, const std::string& where, int depth) {
  for (const auto& [key, value] : m.items()) {
    if (key != "not") fail(where, "\"not\" takes no other key, got " + quote(key));
  }
  if (depth >= kMaxDepth) fail(where, "\"not\" nested too deeply");
  Matcher out;
  out.predicate = Not{std::make_unique<Matcher>(parse_matcher(*m.find("not"), where + ".not", depth + 1))};
  return out;
}

Matcher parse_lint(const json& m, const std::string& where) {
  HasLint lint;
  for (const auto& [key, value] : m.items()) {
    if (key != "lint" && key != "detail") fail(where, "unknown key " + quote(key) + " in a lint matcher: it takes lint and detail");
    if (!value.is_string()) fail(where, must_be(key, "a string", value));
    if (key == "detail") lint.detail = value.get<std::string>();
  }
  lint.id = m.find("lint")->get<std::string>();
  // A misspelt lint would make "none" pass silently.
  if (!formats::lint_from_name(lint.id)) fail(where, "unknown lint " + quote(lint.id));
  Matcher out;
  out.predicate = std::move(lint);
  return out;
}

std::optional<Op> comparison(std::string_view key) {
  if (key == "lt") return Op::lt;
  if (key == "le") return Op::le;
  if (key == "gt") return Op::gt;
  if (key == "ge") return Op::ge;
  if (key == "ne") return Op::ne;
  return std::nullopt;
}

bool is_predicate(std::string_view key) {
  return key == "equals" || key == "regex" || key == "exists" || key == "json" || comparison(key);
}

std::shared_ptr<const re2::RE2> compile(const json& pattern, const std::string& where) {
  if (!pattern.is_string()) fail(where, must_be("regex", "a string", pattern));
  re2::RE2::Options options;
  options.set_log_errors(false);  // the error goes back to the client, not to stderr
  auto re = std::make_shared<const re2::RE2>(pattern.get_ref<const std::string&>(), options);
  if (!re->ok()) fail(where, "invalid regex " + shown(pattern) + ": " + re->error());
  return re;
}

json structured_value(const std::string& key, const json& value, const std::string& where) {
  if (!depth_within(value, kMaxDepth)) fail(where, quote(key) + " value nested deeper than " + std::to_string(kMaxDepth) + " levels");
  return value;
}

// Sets the matcher's predicate from one predicate key; comparisons accumulate.
void add_predicate(Matcher& out, const std::string& key, const json& value, const std::string& where) {
  if (const auto op = comparison(key)) {
    const auto number = json_number(value);
    if (!number) fail(where, must_be(key, "a number", value));
    if (!std::holds_alternative<Compare>(out.predicate)) out.predicate = Compare{};
    std::get<Compare>(out.predicate).bounds.push_back({*op, *number, key + " " + shown(value)});
  } else if (key == "equals") {
    out.predicate = Equals{structured_value(key, value, where)};
  } else if (key == "json") {
    out.predicate = SubMatch{structured_value(key, value, where)};
  } else if (key == "regex") {
    out.predicate = Regex{compile(value, where)};
  } else if (!value.is_boolean()) {
    fail(where, must_be(key, "true or false", value));
  } else {
    out.predicate = Exists{value.get<bool>()};
  }
}

void set_field(Matcher& out, const json& m, const std::string& where) {
  const auto field = m.find("field");
  if (field == m.end()) fail(where, "missing \"field\"");
  if (!field->is_string()) fail(where, must_be("field", "a string", *field));
  out.field = field->get<std::string>();
  out.path = formats::json::split_path(out.field);
  if (std::any_of(out.path.begin(), out.path.end(), [](const std::string& step) { return step.empty(); })) {
    fail(where, "\"field\" has an empty step: " + quote(out.field));
  }
}

Matcher parse_field_matcher(const json& m, const std::string& where) {
  Matcher out;
  std::string chosen;  // the first predicate key seen
  for (const auto& [key, value] : m.items()) {
    if (key == "field") continue;
    if (key == "detail") fail(where, "\"detail\" goes with \"lint\"");
    if (!is_predicate(key)) fail(where, "unknown predicate " + quote(key));
    if (!chosen.empty() && !(comparison(chosen) && comparison(key))) {
      fail(where, "two predicates " + quote(chosen) + " and " + quote(key) + ": a matcher takes one (lt, le, gt, ge, ne combine)");
    }
    if (chosen.empty()) chosen = key;
    add_predicate(out, key, value, where);
  }
  if (chosen.empty()) fail(where, "no predicate: give one of equals, regex, exists, json, lt, le, gt, ge, ne");
  set_field(out, m, where);
  return out;
}

Matcher parse_matcher(const json& m, const std::string& where, int depth) {
  if (!m.is_object()) fail(where, "expected a matcher object, got " + shown(m));
  if (m.contains("not")) return parse_not(m, where, depth);
  if (m.contains("lint")) return parse_lint(m, where);
  return parse_field_matcher(m, where);
}

std::uint64_t count_value(const std::string& key, const json& value, const std::string& where) {
  // A literal such as 3 is signed in nlohmann::json when built in C++, unsigned when parsed.
  const bool ok = value.is_number_unsigned() || (value.is_number_integer() && value.get<std::int64_t>() >= 0);
  if (!ok) fail(where, must_be(key, "a non-negative integer", value));
  return value.get<std::uint64_t>();
}

Count parse_count(const json& value, const std::string& where) {
  if (!value.is_object()) fail(where, "expected an object with eq, min or max, got " + shown(value));
  if (value.empty()) fail(where, "empty: give eq, min or max");
  Count c;
  for (const auto& [key, bound] : value.items()) {
    auto* slot = key == "eq" ? &c.eq : key == "min" ? &c.min : key == "max" ? &c.max : nullptr;
    if (!slot) fail(where, "unknown key " + quote(key) + ": expected eq, min or max");
    *slot = count_value(key, bound, where);
  }
  if (c.min && c.max && *c.min > *c.max) fail(where, "min is greater than max: " + describe(c));
  if (c.eq && !count_ok(Count{std::nullopt, c.min, c.max}, *c.eq)) fail(where, "eq is outside min..max: " + describe(c));
  return c;
}

Expectation parse_expectation(const json& e, const std::string& where) {
  if (!e.is_object()) fail(where, "expected an expectation object, got " + shown(e));
  Expectation out;
  for (const auto& [key, value] : e.items()) {
    const std::string place = where + "." + key;
    if (key == "name") {
      if (!value.is_string()) fail(where, must_be(key, "a string", value));
      out.name = value.get<std::string>();
    } else if (key == "where") {
      out.where = parse_matchers(value, place, /*allow_empty=*/true);
    } else if (key == "count") {
      out.count = parse_count(value, place);
    } else if (key == "every" || key == "none" || key == "some") {
      (key == "every" ? out.every : key == "none" ? out.none : out.some) = parse_matchers(value, place, false);
    } else {
      fail(where, "unknown key " + quote(key) + ": expected name, where, count, every, none or some");
    }
  }
  if (!out.count && out.every.empty() && out.none.empty() && out.some.empty()) {
    fail(where, "nothing to check: give count, every, none or some");
  }
  return out;
}

std::vector<Expectation> parse_list(const json& list) {
  if (list.empty()) fail("expectations", "empty list: give at least one expectation");
  std::vector<Expectation> out;
  for (std::size_t i = 0; i < list.size(); ++i) out.push_back(parse_expectation(list[i], item("expectations", i)));
  return out;
}

std::vector<Expectation> parse_body(const json& body) {
  if (body.is_array()) return parse_list(body);
  if (!body.is_object()) fail("body", "expected an object or a list, got " + shown(body));
  const auto list = body.find("expectations");
  if (list == body.end()) {
    std::vector<Expectation> out;
    out.push_back(parse_expectation(body, "expectations[0]"));
    return out;
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "expectations") fail("body", "unknown key " + quote(key) + " next to \"expectations\"");
  }
  if (!list->is_array()) fail("body", must_be("expectations", "a list", *list));
  return parse_list(*list);
}

// ---------------------------------------------------------------- evaluation state

// A failing event kept for the report. `hard` says why it breaks "every" or
// "none" (final); `soft` why it misses "some" (void once some event matches).
struct Sample {
  std::uint64_t position;
  std::string hard, soft;
  json event;
};

struct Progress {
  std::uint64_t selected = 0, every_failed = 0, none_matched = 0;
  bool some_found = false;
  std::string first_every, first_none, first_some_miss;  // "event 7: every[0]: …"
  std::vector<Sample> samples;
  std::size_t hard_samples = 0, soft_samples = 0;
};

bool passes(const Expectation& e, const Progress& p) {
  return (!e.count || count_ok(*e.count, p.selected)) && p.every_failed == 0 && p.none_matched == 0 &&
         (e.some.empty() || p.some_found);
}

bool failed_for_good(const Expectation& e, const Progress& p) {
  return p.every_failed > 0 || p.none_matched > 0 || (e.count && count_exceeded(*e.count, p.selected));
}

// Only monotone checks can pass before the end: "some" found, "count.min" reached.
bool passed_for_good(const Expectation& e, const Progress& p) {
  const bool count_done = !e.count || (!e.count->eq && !e.count->max && p.selected >= e.count->min.value_or(0));
  return e.every.empty() && e.none.empty() && (e.some.empty() || p.some_found) && count_done;
}

void found_some(Progress& p) {
  p.some_found = true;
  p.first_some_miss.clear();
  std::erase_if(p.samples, [](const Sample& s) { return s.hard.empty(); });
  for (auto& sample : p.samples) sample.soft.clear();
  p.soft_samples = 0;
}

struct Verdicts {
  bool every_fails, none_fails, some_misses;
};

// Records a selected event that fails something: the first reason of each
// kind for the message, and the event itself while there is room.
void record(const Expectation& e, Progress& p, const json& event, std::uint64_t position, Verdicts v) {
  const bool first = (v.every_fails && p.first_every.empty()) || (v.none_fails && p.first_none.empty()) ||
                     (v.some_misses && p.first_some_miss.empty());
  const bool keep = ((v.every_fails || v.none_fails) && p.hard_samples < kMaxSamples) ||
                    (v.some_misses && p.soft_samples < kMaxSamples);
  if (!first && !keep) return;  // reasons cost more than the checks: build them only when used
  const std::string label = event_label(event, position) + ": ";
  const std::string every = v.every_fails ? reasons(e.every, "every", event, true) : "";
  const std::string none = v.none_fails ? reasons(e.none, "none", event, false) : "";
  const std::string soft = v.some_misses ? reasons(e.some, "some", event, true) : "";
  if (v.every_fails && p.first_every.empty()) p.first_every = label + every;
  if (v.none_fails && p.first_none.empty()) p.first_none = label + none;
  if (v.some_misses && p.first_some_miss.empty()) p.first_some_miss = label + soft;
  if (!keep) return;
  std::string hard = every;
  if (v.none_fails) append(hard, "; ", "none matched: " + none);
  p.hard_samples += !hard.empty();
  p.soft_samples += !soft.empty();
  p.samples.push_back({position, hard, soft, shrink(event)});
}

void observe_selected(const Expectation& e, Progress& p, const json& event, std::uint64_t position) {
  ++p.selected;
  const bool some_open = !e.some.empty() && !p.some_found;
  const Verdicts v{!e.every.empty() && !all_hold(e.every, event), !e.none.empty() && all_hold(e.none, event),
                   some_open && !all_hold(e.some, event)};
  if (some_open && !v.some_misses) found_some(p);
  p.every_failed += v.every_fails;
  p.none_matched += v.none_fails;
  if (v.every_fails || v.none_fails || v.some_misses) record(e, p, event, position, v);
}

// ---------------------------------------------------------------- report

std::string of_selected(std::uint64_t n, const Progress& p) {
  return std::to_string(n) + " of " + std::to_string(p.selected) + " selected events";
}

std::string message(const Expectation& e, const Progress& p) {
  std::string out;
  if (e.count && !count_ok(*e.count, p.selected)) {
    append(out, "; ", "count: " + std::to_string(p.selected) + " selected, expected " + describe(*e.count));
  }
  if (p.every_failed) append(out, "; ", "every: " + of_selected(p.every_failed, p) + " fail, first " + p.first_every);
  if (p.none_matched) append(out, "; ", "none: " + of_selected(p.none_matched, p) + " match, first " + p.first_none);
  if (!e.some.empty() && !p.some_found) {
    append(out, "; ", p.selected == 0 ? "some: no event selected"
                                      : "some: none of " + std::to_string(p.selected) +
                                            " selected events matches, first " + p.first_some_miss);
  }
  return out;
}

json failing(const Progress& p, bool some_failed) {
  json out = json::array();
  for (const auto& sample : p.samples) {
    std::string reason = sample.hard;
    if (some_failed) append(reason, "; ", sample.soft);
    if (reason.empty() || out.size() == kMaxSamples) continue;
    json entry = {{"position", sample.position}, {"reason", reason}, {"event", sample.event}};
    if (const auto id = sample.event.find("id"); id != sample.event.end()) entry["id"] = *id;
    out.push_back(std::move(entry));
  }
  return out;
}

json report(const Expectation& e, const Progress& p) {
  json out = {{"pass", passes(e, p)},
              {"decided", failed_for_good(e, p) || passed_for_good(e, p)},
              {"selected", p.selected},
              {"message", message(e, p)},
              {"failing", failing(p, !e.some.empty() && !p.some_found)}};
  if (e.name) out["name"] = *e.name;
  return out;
}

}  // namespace

// ---------------------------------------------------------------- public API

std::string ParseError::text() const { return where + ": " + message; }

json ParseError::as_json() const { return {{"error", text()}, {"where", where}, {"message", message}}; }

struct Expectations::Compiled {
  std::vector<Expectation> list;
};

Expectations::Expectations(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}

std::size_t Expectations::size() const { return compiled_->list.size(); }

std::variant<Expectations, ParseError> parse(const json& body) {
  try {
    auto compiled = std::make_shared<Expectations::Compiled>();
    compiled->list = parse_body(body);
    return Expectations(std::move(compiled));
  } catch (const Invalid& invalid) {
    return invalid.error;
  }
}

FieldPath::FieldPath(std::string_view path) : steps_(formats::json::split_path(path)) {}

const json* FieldPath::find(const json& root) const { return resolve(root, steps_); }

struct Selector::Compiled {
  std::vector<Matcher> matchers;
};

Selector::Selector(std::shared_ptr<const Compiled> compiled) : compiled_(std::move(compiled)) {}

std::variant<Selector, ParseError> Selector::parse(const json& matchers, const std::string& where) {
  try {
    auto compiled = std::make_shared<Compiled>();
    compiled->matchers = parse_matchers(matchers, where, /*allow_empty=*/false);
    return Selector(std::move(compiled));
  } catch (const Invalid& invalid) {
    return invalid.error;
  }
}

bool Selector::matches(const json& object) const { return all_hold(compiled_->matchers, object); }

struct Evaluation::State {
  std::uint64_t observed = 0;
  std::vector<Progress> progress;
};

Evaluation::Evaluation(Expectations expectations)
    : expectations_(std::move(expectations)), state_(std::make_unique<State>()) {
  state_->progress.resize(expectations_.size());
}

Evaluation::~Evaluation() = default;
Evaluation::Evaluation(Evaluation&&) noexcept = default;
Evaluation& Evaluation::operator=(Evaluation&&) noexcept = default;

void Evaluation::observe(const json& event) {
  const std::uint64_t position = ++state_->observed;
  const auto& list = expectations_.compiled_->list;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (all_hold(list[i].where, event)) observe_selected(list[i], state_->progress[i], event, position);
  }
}

bool Evaluation::decided() const {
  const auto& list = expectations_.compiled_->list;
  bool all_passed = true;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (failed_for_good(list[i], state_->progress[i])) return true;
    all_passed = all_passed && passed_for_good(list[i], state_->progress[i]);
  }
  return all_passed;
}

bool Evaluation::pass() const {
  const auto& list = expectations_.compiled_->list;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!passes(list[i], state_->progress[i])) return false;
  }
  return true;
}

json Evaluation::result() const {
  const auto& list = expectations_.compiled_->list;
  json reports = json::array();
  for (std::size_t i = 0; i < list.size(); ++i) reports.push_back(report(list[i], state_->progress[i]));
  return {{"pass", pass()}, {"decided", decided()}, {"observed", state_->observed}, {"expectations", reports}};
}

}  // namespace kumasim::expect
