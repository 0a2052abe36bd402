#include "shipper/pipeline/field_path.h"

#include <charconv>
#include <optional>

namespace kumasim::shipper {
namespace {

using Step = std::optional<PathError>;  // nullopt: the step parsed

struct Cursor {
  std::string_view text;
  std::size_t pos = 0;
  bool done() const { return pos == text.size(); }
  char peek() const { return text[pos]; }
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c); }
bool is_name_char(char c) { return is_alnum(c) || c == '_' || c == '@'; }
bool contains(std::string_view text, char c) { return text.find(c) != std::string_view::npos; }

// VRL's lexer reads a name that starts with a digit and holds only digits and
// `_` as a number, and a lone `_` as the discard token: neither is a field.
std::optional<std::string> misread_name(std::string_view name) {
  if (name == "_") return "a lone `_` is not a field name in VRL; quote it";
  if (!is_digit(name.front())) return std::nullopt;
  for (char c : name)
    if (!is_digit(c) && c != '_') return std::nullopt;
  return "VRL reads `" + std::string(name) + "` as a number, not a field name; quote it";
}

Step parse_unquoted(Cursor& c, FieldPath& out) {
  const std::size_t start = c.pos;
  while (!c.done() && is_name_char(c.peek())) ++c.pos;
  if (!c.done() && c.peek() != '.' && c.peek() != '[')
    return PathError{c.pos, "`" + std::string(1, c.peek()) +
                                "` is not allowed in an unquoted segment (letters, digits, `_`, `@`); "
                                "write the segment in double quotes"};
  const std::string_view name = c.text.substr(start, c.pos - start);
  if (name.empty()) return PathError{start, "empty segment (a leading, trailing or doubled `.`)"};
  if (auto reason = misread_name(name)) return PathError{start, std::move(*reason)};
  out.push_back(PathSegment{std::string(name)});
  return std::nullopt;
}

// The escapes of a VRL string literal that stand for one character. VRL also
// has `\{`, `\}`, `\u{...}` and line continuations; a field name never needs
// them, so they are refused rather than half-supported.
std::optional<char> unescape(char c) {
  switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '\'': return '\'';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case '0': return '\0';
    default: return std::nullopt;
  }
}

Step parse_quoted(Cursor& c, FieldPath& out) {
  const std::size_t open = c.pos++;
  std::string key;
  while (!c.done()) {
    const char ch = c.text[c.pos++];
    if (ch == '"') {
      out.push_back(PathSegment{std::move(key)});
      return std::nullopt;
    }
    // VRL string literals are templates: `{{` would start a variable reference.
    if (ch == '{' && !c.done() && c.peek() == '{')
      return PathError{c.pos - 1, "`{{` in a quoted segment is a VRL template, not a field name"};
    if (ch != '\\') {
      key += ch;
      continue;
    }
    if (c.done()) break;
    const auto plain = unescape(c.peek());
    if (!plain) return PathError{c.pos - 1, "unsupported escape `\\" + std::string(1, c.peek()) + "`"};
    key += *plain;
    ++c.pos;
  }
  return PathError{open, "unterminated quoted segment"};
}

// `[N]` as VRL lexes the integer: an optional `-`, digits, `_` separators.
Step parse_index(Cursor& c, FieldPath& out) {
  const std::size_t open = c.pos++;
  std::string digits;
  if (!c.done() && c.peek() == '-') digits += c.text[c.pos++];
  if (c.done() || !is_digit(c.peek())) return PathError{open, "an index is `[N]` with an integer N"};
  for (; !c.done() && (is_digit(c.peek()) || c.peek() == '_'); ++c.pos)
    if (c.peek() != '_') digits += c.peek();
  if (c.done() || c.peek() != ']') return PathError{open, "an index is `[N]` with an integer N"};
  ++c.pos;
  std::int64_t index = 0;
  const char* last = digits.data() + digits.size();
  const auto [end, error] = std::from_chars(digits.data(), last, index);
  if (error != std::errc() || end != last) return PathError{open, "index out of the 64-bit range"};
  out.push_back(PathSegment{{}, index, true});
  return std::nullopt;
}

Step parse_field(Cursor& c, FieldPath& out) {
  if (!c.done() && c.peek() == '"') return parse_quoted(c, out);
  return parse_unquoted(c, out);
}

std::string without_backslashes(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != '\\') out += c;
  return out;
}

// DKP's vectorArrayTemplate, `^[a-zA-Z0-9_\\\.\-]+\[\d+\]$`.
bool is_name_with_one_index(std::string_view part) {
  const std::size_t open = part.find('[');
  if (open == 0 || open == std::string_view::npos || part.size() < open + 3 || part.back() != ']') return false;
  for (char c : part.substr(0, open))
    if (!is_alnum(c) && c != '_' && c != '\\' && c != '.' && c != '-') return false;
  for (char c : part.substr(open + 1, part.size() - open - 2))
    if (!is_digit(c)) return false;
  return true;
}

// DKP's escapeVectorString: a part holding `-` or `\` becomes one quoted
// segment with the backslashes dropped (keeping a single trailing `[N]`);
// any other part goes into the VRL path verbatim.
std::string escape_vector_string(std::string_view part) {
  if (!contains(part, '-') && !contains(part, '\\')) return std::string(part);
  if (is_name_with_one_index(part)) {
    const std::size_t open = part.find('[');
    return '"' + without_backslashes(part.substr(0, open)) + '"' + std::string(part.substr(open));
  }
  return '"' + without_backslashes(part) + '"';
}

std::vector<std::string_view> split_dots(std::string_view text) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t dot = text.find('.', start);
    parts.push_back(text.substr(start, dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

// DKP's processDataFieldWithEscape: a part ending in `\` absorbs the parts
// after it up to and including the first one that does not.
std::vector<std::string> join_escaped_dots(const std::vector<std::string_view>& parts) {
  std::vector<std::string> merged;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string buf(parts[i]);
    while (buf.back() == '\\' && i + 1 < parts.size()) buf += "." + std::string(parts[++i]);
    merged.push_back(std::move(buf));
  }
  return merged;
}

nlohmann::json& object_slot(nlohmann::json& node, const std::string& key) {
  if (!node.is_object()) node = nlohmann::json::object();
  return node[key];
}

// VRL pads with nulls: after the end for a positive index, before the start
// for a negative one reaching past the first element.
nlohmann::json& array_slot(nlohmann::json& node, std::int64_t index) {
  if (!node.is_array()) node = nlohmann::json::array();
  auto& array = node.get_ref<nlohmann::json::array_t&>();
  if (index >= 0) {
    const auto position = static_cast<std::size_t>(index);
    if (array.size() <= position) array.resize(position + 1);
    return array[position];
  }
  const std::size_t from_end = 0 - static_cast<std::size_t>(index);
  if (array.size() < from_end) array.insert(array.begin(), from_end - array.size(), nullptr);
  return array[array.size() - from_end];
}

}  // namespace

std::variant<FieldPath, PathError> parse_filter_path(std::string_view text) {
  FieldPath path;
  Cursor c{text};
  if (c.done()) return path;
  // `.[N]` (the text starting with an index) is valid VRL from the root.
  if (c.peek() != '[') {
    if (auto error = parse_field(c, path)) return *error;
  }
  for (;;) {
    while (!c.done() && c.peek() == '[')
      if (auto error = parse_index(c, path)) return *error;
    if (c.done()) return path;
    if (c.peek() != '.') return PathError{c.pos, "expected `.` or `[` after a segment"};
    ++c.pos;
    if (auto error = parse_field(c, path)) return *error;
  }
}

std::variant<FieldPath, PathError> label_key_path(std::string_view key) {
  // DKP writes `.<key> = ...`, quoting the whole key when it holds `-`.
  auto parsed = parse_filter_path(escape_vector_string(key));
  if (auto* path = std::get_if<FieldPath>(&parsed); path && !path->empty() && path->front().is_index)
    return PathError{0, "a label key cannot start with an index"};
  return parsed;
}

std::variant<FieldPath, PathError> parse_template_path(std::string_view inner) {
  std::vector<std::string_view> parts = split_dots(inner);
  // DKP strips a leading `parsed_data` segment: `{{ parsed_data.x }}` reads parsed_data.x.
  if (parts.front() == "parsed_data") parts.erase(parts.begin());
  if (parts.empty()) return FieldPath{};
  for (std::string_view part : parts)
    if (part.empty()) return PathError{0, "empty segment in `" + std::string(inner) + "` (DKP's generator fails on it)"};
  std::string vrl;
  for (const std::string& part : join_escaped_dots(parts)) {
    if (!vrl.empty()) vrl += '.';
    vrl += escape_vector_string(part);
  }
  auto parsed = parse_filter_path(vrl);
  if (auto* error = std::get_if<PathError>(&parsed))
    return PathError{0, "`" + std::string(inner) + "` becomes the VRL path .parsed_data." + vrl + ": " + error->reason};
  if (const auto& path = std::get<FieldPath>(parsed); path.front().is_index)
    return PathError{0, "`" + std::string(inner) + "` becomes .parsed_data." + vrl + ", which is not a VRL path"};
  return parsed;
}

const nlohmann::json* lookup(const nlohmann::json& root, const FieldPath& path) {
  const nlohmann::json* node = &root;
  for (const PathSegment& segment : path) {
    if (segment.is_index) {
      if (!node->is_array()) return nullptr;
      const auto size = static_cast<std::int64_t>(node->size());
      const std::int64_t index = segment.index < 0 ? segment.index + size : segment.index;
      if (index < 0 || index >= size) return nullptr;
      node = &(*node)[static_cast<std::size_t>(index)];
    } else {
      if (!node->is_object()) return nullptr;
      const auto it = node->find(segment.key);
      if (it == node->end()) return nullptr;
      node = &*it;
    }
  }
  return node;
}

void assign(nlohmann::json& root, const FieldPath& path, nlohmann::json value) {
  nlohmann::json* node = &root;
  for (const PathSegment& segment : path)
    node = segment.is_index ? &array_slot(*node, segment.index) : &object_slot(*node, segment.key);
  *node = std::move(value);
}

}  // namespace kumasim::shipper
