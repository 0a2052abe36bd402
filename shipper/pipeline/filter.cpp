#include "shipper/pipeline/filter.h"

#include "formats/event.h"
#include "formats/utf8.h"

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <limits>

namespace kumasim::shipper {
namespace {

// ---------------------------------------------------------------- regex dialect
//
// DKP renders each value into a VRL regex literal, r'...', compiled by Rust's
// `regex` crate. RE2 shares most of that syntax; the differences that matter
// are rewritten here, and the Rust-only constructs RE2 would read differently
// are refused ("regex-unsupported") instead of silently matching otherwise.
//
// Unicode classes. Rust's \d \s \w are Unicode-aware, RE2's are ASCII:
//  - \d is \p{Nd} in both;
//  - \s is the White_Space property, which RE2 lacks, so it is listed;
//  - \w is Alphabetic + M + Nd + Pc + Join_Control (UTS #18). RE2 has no
//    Alphabetic either: it is L + Nl + Other_Alphabetic, whose members outside
//    M are the circled and squared Latin letters listed at the end.
// Both engines use their own Unicode tables (RE2 2022: Unicode 14), so
// characters assigned after that may differ.
// Known gap: \b and \B stay ASCII word boundaries in RE2, so they differ from
// Rust only next to non-ASCII letters or digits.

constexpr std::string_view kSpaceItems =
    "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
// The complement of kSpaceItems over all code points, for \S inside a class.
constexpr std::string_view kNonSpaceItems =
    "\\x{0}-\\x{8}\\x{E}-\\x{1F}\\x{21}-\\x{84}\\x{86}-\\x{9F}\\x{A1}-\\x{167F}\\x{1681}-\\x{1FFF}"
    "\\x{200B}-\\x{2027}\\x{202A}-\\x{202E}\\x{2030}-\\x{205E}\\x{2060}-\\x{2FFF}\\x{3001}-\\x{10FFFF}";
constexpr std::string_view kWordItems =
    "\\p{L}\\p{Nl}\\p{M}\\p{Nd}\\p{Pc}\\x{200C}\\x{200D}"
    "\\x{24B6}-\\x{24E9}\\x{1F130}-\\x{1F149}\\x{1F150}-\\x{1F169}\\x{1F170}-\\x{1F189}";

std::size_t encode_utf8(char32_t cp, char* out) {
  if (cp < 0x80) {
    out[0] = static_cast<char>(cp);
    return 1;
  }
  if (cp < 0x800) {
    out[0] = static_cast<char>(0xC0 | (cp >> 6));
    out[1] = static_cast<char>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = static_cast<char>(0xE0 | (cp >> 12));
    out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[2] = static_cast<char>(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = static_cast<char>(0xF0 | (cp >> 18));
  out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out[3] = static_cast<char>(0x80 | (cp & 0x3F));
  return 4;
}

void append_code_point(char32_t cp, std::string& out) {
  std::array<char, 8> hex;
  const auto end = std::to_chars(hex.data(), hex.data() + hex.size(), static_cast<std::uint32_t>(cp), 16).ptr;
  out += "\\x{";
  out.append(hex.data(), end);
  out += '}';
}

// \W inside a class needs the complement of a union of properties, which RE2
// cannot write. It is computed once, on first use, by testing every code point
// against RE2's own \w rewrite, so the two stay consistent.
const std::string& non_word_items() {
  static const std::string items = [] {
    const RE2 word("[" + std::string(kWordItems) + "]");
    std::string out;
    bool in_run = false;
    char32_t run_start = 0, run_end = 0;
    const auto close_run = [&] {
      append_code_point(run_start, out);
      if (run_end != run_start) {
        out += '-';
        append_code_point(run_end, out);
      }
    };
    std::array<char, 4> utf8;
    for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;  // not scalar values; a run may span them
      const bool is_word = RE2::FullMatch(std::string_view(utf8.data(), encode_utf8(cp, utf8.data())), word);
      if (!is_word && !in_run) run_start = cp;
      if (!is_word) run_end = cp;
      if (is_word && in_run) close_run();
      in_run = !is_word;
    }
    if (in_run) close_run();
    return out;
  }();
  return items;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct Translation {
  std::string pattern;
  std::string code;    // empty when translated; else "regex-invalid" or "regex-unsupported"
  std::string reason;
};

class RustToRe2 {
 public:
  explicit RustToRe2(std::string_view rust) : in_(rust) { result_.pattern.reserve(rust.size() + 16); }

  Translation run() && {
    while (pos_ < in_.size() && result_.code.empty()) {
      const char c = in_[pos_];
      if (c == '\\')
        escape();
      else if (in_class_)
        class_char(c);
      else if (c == '[')
        open_class();
      else if (c == '(')
        group();
      else if (c == '{')
        counted_repetition();
      else
        copy(1);
    }
    return std::move(result_);
  }

 private:
  void copy(std::size_t n) {
    out() += in_.substr(pos_, n);
    pos_ += n;
  }
  std::string& out() { return result_.pattern; }
  char at(std::size_t i) const { return i < in_.size() ? in_[i] : '\0'; }
  void fail(std::string_view code, std::string reason) {
    result_.code = code;
    result_.reason = std::move(reason);
  }
  void unsupported(std::string reason) { fail("regex-unsupported", std::move(reason)); }
  void invalid(std::string reason) { fail("regex-invalid", std::move(reason)); }

  void escape() {
    const char c = at(pos_ + 1);
    switch (c) {
      case 'd': return emit_class("\\p{Nd}", "\\p{Nd}");
      case 'D': return emit_class("\\P{Nd}", "\\P{Nd}");
      case 's': return emit_class(kSpaceItems, "[" + std::string(kSpaceItems) + "]");
      case 'S': return emit_class(kNonSpaceItems, "[^" + std::string(kSpaceItems) + "]");
      case 'w': return emit_class(kWordItems, "[" + std::string(kWordItems) + "]");
      case 'W': return emit_class(non_word_items(), "[^" + std::string(kWordItems) + "]");
      case 'p':
      case 'P':
      case 'x': return copy_braced();
      case 'u': return unicode_escape(4);
      case 'U': return unicode_escape(8);
      case 'b':
      case 'B':
        if (at(pos_ + 2) == '{') return unsupported("`\\b{...}` word boundaries are Rust-only");
        return copy(2);
      case '<':
      case '>': return unsupported("`\\<` and `\\>` are word boundaries in Rust but literals in RE2");
      case 'Q':
      case 'E':
      case 'C': return invalid(std::string("`\\") + c + "` is not Rust regex syntax");
      default:
        if (is_digit(c)) return invalid("backreferences and octal escapes are not Rust regex syntax");
        return copy(pos_ + 1 < in_.size() ? 2 : 1);  // a trailing `\` is left for RE2 to report
    }
  }

  void emit_class(std::string_view inside, std::string_view outside) {
    out() += in_class_ ? inside : outside;
    pos_ += 2;
  }

  // \p{...}, \x{...}: the braces belong to the escape, not to a repetition.
  void copy_braced() {
    copy(2);
    if (at(pos_) != '{') return;
    const std::size_t close = in_.find('}', pos_);
    copy(close == std::string_view::npos ? in_.size() - pos_ : close + 1 - pos_);
  }

  // Rust's \uXXXX, \u{X..}, \UXXXXXXXX and \U{X..}; RE2 only knows \x{...}.
  void unicode_escape(std::size_t fixed_digits) {
    std::size_t start = pos_ + 2, end;
    if (at(start) == '{') {
      end = in_.find('}', ++start);
      if (end == std::string_view::npos || end == start) return invalid("malformed `\\u{...}` escape");
    } else {
      end = start + fixed_digits;
      if (end > in_.size()) return invalid("`\\u` needs 4 and `\\U` 8 hex digits");
    }
    for (std::size_t i = start; i < end; ++i)
      if (!is_hex(in_[i])) return invalid("malformed Unicode escape");
    out() += "\\x{";
    out() += in_.substr(start, end - start);
    out() += '}';
    pos_ = at(end) == '}' ? end + 1 : end;
  }

  void open_class() {
    copy(1);
    if (at(pos_) == '^') copy(1);
    if (at(pos_) == ']') copy(1);  // a leading `]` is a literal in both dialects
    in_class_ = true;
  }

  void class_char(char c) {
    if (c == ']') {
      in_class_ = false;
      return copy(1);
    }
    if (c == '[') {
      const std::size_t close = at(pos_ + 1) == ':' ? in_.find(":]", pos_ + 2) : std::string_view::npos;
      if (close == std::string_view::npos)
        return unsupported("nested character classes are Rust-only; RE2 reads `[` literally");
      return copy(close + 2 - pos_);  // [:alpha:] and friends, ASCII in both
    }
    if ((c == '&' || c == '-' || c == '~') && at(pos_ + 1) == c)
      return unsupported(std::string("class set operation `") + c + c + "` is Rust-only");
    copy(1);
  }

  // Flags RE2 lacks (u, x, R) and the `(?<name>` spelling RE2 2022 lacks.
  void group() {
    if (at(pos_ + 1) != '?') return copy(1);
    if (at(pos_ + 2) == '<' && at(pos_ + 3) != '=' && at(pos_ + 3) != '!') {
      out() += "(?P<";
      pos_ += 3;
      return;
    }
    std::size_t end = pos_ + 2;
    while (end < in_.size() && (std::isalpha(static_cast<unsigned char>(in_[end])) || in_[end] == '-')) ++end;
    if (at(end) == ')' || at(end) == ':') {
      for (std::size_t i = pos_ + 2; i < end; ++i)
        if (in_[i] == 'u' || in_[i] == 'x' || in_[i] == 'R')
          return unsupported(std::string("flag `") + in_[i] + "` has no RE2 equivalent");
    }
    copy(2);
  }

  // Rust requires `{` to open {n}, {n,} or {n,m}; RE2 would take a stray one
  // as a literal and accept a pattern that DKP's Vector rejects.
  void counted_repetition() {
    std::size_t i = pos_ + 1;
    const std::size_t first = i;
    while (is_digit(at(i))) ++i;
    bool ok = i > first;
    if (ok && at(i) == ',') {
      ++i;
      while (is_digit(at(i))) ++i;
    }
    ok = ok && at(i) == '}';
    if (!ok) return invalid("a `{` that does not open a repetition {n}, {n,} or {n,m} must be escaped");
    copy(i + 1 - pos_);
  }

  std::string_view in_;
  std::size_t pos_ = 0;
  bool in_class_ = false;
  Translation result_;
};

// DKP's matchFullRegexp: `^` unless the value starts with it, `$` unless the
// result ends with it (so an escaped `\$` at the end gets no anchor either).
std::string anchor(std::string_view value) {
  std::string out;
  if (value.empty() || value.front() != '^') out += '^';
  out += value;
  if (out.back() != '$') out += '$';
  return out;
}

// The VRL lexer ends r'...' at the first `'` not escaped by `\`; whatever
// follows breaks the generated program.
bool breaks_raw_literal(std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\')
      ++i;
    else if (text[i] == '\'')
      return true;
  }
  return false;
}

std::string describe(const FilterValue& value) {
  if (const auto* text = std::get_if<std::string>(&value)) return '"' + *text + '"';
  return std::to_string(std::get<std::int64_t>(value));
}

std::variant<std::shared_ptr<const re2::RE2>, FilterError> compile_regex(const FilterValue& value) {
  // matchFullRegexp anchors strings only; an integer value reaches the
  // template unanchored and renders as its decimal text.
  const auto* text = std::get_if<std::string>(&value);
  const std::string source = text ? anchor(*text) : std::to_string(std::get<std::int64_t>(value));
  const std::string name = "Regex value " + describe(value);
  if (breaks_raw_literal(source))
    return FilterError{"regex-invalid", name + " contains `'`, which ends DKP's raw string r'...'"};
  Translation translated = RustToRe2(source).run();
  if (!translated.code.empty()) return FilterError{translated.code, name + ": " + translated.reason};
  RE2::Options options;
  options.set_log_errors(false);
  options.set_never_capture(true);
  auto regex = std::make_shared<const re2::RE2>(translated.pattern, options);
  if (!regex->ok()) return FilterError{"regex-invalid", name + " does not compile: " + regex->error()};
  return regex;
}

// ---------------------------------------------------------------- matching

// VRL's match() searches the lossy UTF-8 form of the bytes.
bool any_match(const std::string& text, const std::vector<std::shared_ptr<const re2::RE2>>& regexes) {
  const auto search = [&regexes](std::string_view subject) {
    return std::any_of(regexes.begin(), regexes.end(),
                       [subject](const auto& regex) { return RE2::PartialMatch(subject, *regex); });
  };
  if (formats::utf8::is_valid(text)) return search(text);
  std::string repaired;
  formats::utf8::append_lossy(text, repaired);
  return search(repaired);
}

enum class Membership { absent, listed, unlisted };  // absent: missing or null, which In and NotIn both drop

Membership listed_string(std::string_view text, const std::vector<FilterValue>& values) {
  const bool listed = std::any_of(values.begin(), values.end(), [text](const FilterValue& value) {
    const auto* candidate = std::get_if<std::string>(&value);
    return candidate && *candidate == text;
  });
  return listed ? Membership::listed : Membership::unlisted;
}

Membership listed_integer(std::int64_t number, const std::vector<FilterValue>& values) {
  const bool listed = std::any_of(values.begin(), values.end(), [number](const FilterValue& value) {
    const auto* candidate = std::get_if<std::int64_t>(&value);
    return candidate && *candidate == number;
  });
  return listed ? Membership::listed : Membership::unlisted;
}

// DKP's In/NotIn: includes(values, F) with VRL's typed equality, except that a
// float or boolean F is compared as to_string(F). Integer values are never
// equal to a string, so `values: [2]` does not list the float 2.0 (it becomes
// "2"); write `values: ["2"]` for that.
Membership membership(const nlohmann::json* field, const std::vector<FilterValue>& values) {
  if (!field) return Membership::absent;
  switch (field->type()) {
    case nlohmann::json::value_t::null: return Membership::absent;
    case nlohmann::json::value_t::string: return listed_string(field->get_ref<const std::string&>(), values);
    case nlohmann::json::value_t::number_integer: return listed_integer(field->get<std::int64_t>(), values);
    case nlohmann::json::value_t::number_unsigned: {
      // VRL has no unsigned integers: past i64 a number is a float.
      const auto number = field->get<std::uint64_t>();
      if (number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return listed_integer(static_cast<std::int64_t>(number), values);
      return listed_string(formats::event::rust_float(static_cast<double>(number)), values);
    }
    case nlohmann::json::value_t::number_float:
      return listed_string(formats::event::rust_float(field->get<double>()), values);
    case nlohmann::json::value_t::boolean: return listed_string(field->get<bool>() ? "true" : "false", values);
    default: return Membership::unlisted;  // arrays and objects equal no listed value
  }
}

}  // namespace

std::string anchored_pattern(std::string_view value) { return RustToRe2(anchor(value)).run().pattern; }

std::variant<Condition, FilterError> Condition::compile(const FilterSpec& spec, const FieldPath& base) {
  auto parsed = parse_filter_path(spec.field);
  if (const auto* error = std::get_if<PathError>(&parsed))
    return FilterError{"filter-path-invalid",
                       "field `" + spec.field + "` at byte " + std::to_string(error->offset) + ": " + error->reason};
  const FieldPath& relative = std::get<FieldPath>(parsed);
  if (!base.empty() && !relative.empty() && relative.front().is_index)
    return FilterError{"filter-path-invalid", "field `" + spec.field +
                                                  "`: DKP writes .parsed_data." + spec.field +
                                                  " and VRL accepts no index right after a `.`"};
  Condition condition;
  condition.path_ = base;
  condition.path_.insert(condition.path_.end(), relative.begin(), relative.end());
  condition.op_ = spec.op;
  if (spec.op == FilterOperator::in || spec.op == FilterOperator::not_in) condition.values_ = spec.values;
  if (spec.op == FilterOperator::regex || spec.op == FilterOperator::not_regex) {
    for (const FilterValue& value : spec.values) {
      auto regex = compile_regex(value);
      if (auto* error = std::get_if<FilterError>(&regex)) return std::move(*error);
      condition.regexes_.push_back(std::move(std::get<std::shared_ptr<const re2::RE2>>(regex)));
    }
  }
  return condition;
}

bool Condition::keep(const nlohmann::json& event) const {
  const nlohmann::json* field = lookup(event, path_);
  switch (op_) {
    case FilterOperator::exists: return field != nullptr;
    case FilterOperator::does_not_exist: return field == nullptr;
    case FilterOperator::in: return membership(field, values_) == Membership::listed;
    case FilterOperator::not_in: return membership(field, values_) == Membership::unlisted;
    // match!() on a non-string raises an error, and an error drops the event.
    case FilterOperator::regex:
      return field && field->is_string() && any_match(field->get_ref<const std::string&>(), regexes_);
    // DKP guards NotRegex with exists() && is_string(): anything else is kept.
    case FilterOperator::not_regex:
      return !field || !field->is_string() || !any_match(field->get_ref<const std::string&>(), regexes_);
  }
  return false;
}

bool keep_all(const std::vector<Condition>& conditions, const nlohmann::json& event) {
  return std::all_of(conditions.begin(), conditions.end(),
                     [&event](const Condition& condition) { return condition.keep(event); });
}

}  // namespace kumasim::shipper
