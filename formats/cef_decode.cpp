// CEF decoder, kuma-receiver.md §5.6. One forward pass over views into the
// input: memchr finds each '=', a look-back decides whether " KEY" precedes it
// (a pair boundary), and values are unescaped only when somebody asks.
#include "formats/cef.h"

#include <algorithm>
#include <array>
#include <climits>
#include <cstring>

namespace kumasim::formats::cef {
namespace {

constexpr std::string_view kMarker = "CEF:";
constexpr std::size_t kNone = std::string_view::npos;

// KEY = [A-Za-z_][A-Za-z0-9_.]*
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }
constexpr bool is_key_start(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
constexpr bool is_key_char(char c) { return is_key_start(c) || is_digit(c) || c == '.'; }

constexpr std::array<bool, 256> kKeyChar = [] {
  std::array<bool, 256> t{};
  for (unsigned c = 0; c < 256; ++c) t[c] = is_key_char(static_cast<char>(c));
  return t;
}();

std::size_t find_byte(std::string_view in, std::size_t from, char byte) {
  if (from >= in.size()) return kNone;
  const void* hit = std::memchr(in.data() + from, byte, in.size() - from);
  return hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - in.data()) : kNone;
}

// Step 2: "CEF:" then 1+ ASCII digits up to the first '|'. `pos` ends after that '|'.
DecodeResult parse_version(std::string_view in, std::size_t& pos, Event& out) {
  const std::size_t start = pos;
  long long value = 0;
  for (; pos < in.size() && in[pos] != '|'; ++pos) {
    const char c = in[pos];
    if (!is_digit(c)) {
      out.failure = Failure::bad_version;
      return DecodeError{pos, "CEF version is not 1+ ASCII digits"};
    }
    value = std::min<long long>(value * 10 + (c - '0'), INT_MAX);  // saturate: still "unknown"
  }
  if (pos == in.size()) {
    out.failure = Failure::incomplete_header;
    return DecodeError{pos, "input ends before the version's closing |"};
  }
  if (pos == start) {
    out.failure = Failure::bad_version;
    return DecodeError{pos, "CEF version is not 1+ ASCII digits"};
  }
  out.version_text = in.substr(start, pos - start);
  out.version = static_cast<int>(value);
  ++pos;
  return std::nullopt;
}

// Step 3 for one field: index of the unescaped '|' that ends it, or kNone when
// the input ends first. Only `\|` and `\\` are header escapes.
std::size_t scan_header_field(std::string_view in, std::size_t pos, std::uint8_t& flags) {
  for (; pos < in.size(); ++pos) {
    const char c = in[pos];
    if (c == '|') return pos;
    if (c != '\\') continue;
    flags |= kHasEscape;
    if (pos + 1 == in.size()) {
      flags |= kInvalidEscape;  // a final lone backslash stays
      return kNone;
    }
    if (in[pos + 1] != '|' && in[pos + 1] != '\\') flags |= kInvalidEscape;
    ++pos;
  }
  return kNone;
}

// Step 3: the six fields after the version. `pos` ends after the seventh '|'
// (or at the end when Severity runs to the end of the input).
DecodeResult parse_header(std::string_view in, std::size_t& pos, Event& out) {
  for (std::size_t i = 0; i < kHeaderFields; ++i) {
    const std::size_t end = scan_header_field(in, pos, out.header_flags[i]);
    const bool last = i + 1 == kHeaderFields;
    if (end == kNone && !last) {
      out.failure = Failure::incomplete_header;
      return DecodeError{in.size(), "input ends before the seventh CEF header field"};
    }
    out.header[i] = in.substr(pos, (end == kNone ? in.size() : end) - pos);
    out.header_fields = i + 1;
    if (end == kNone) out.missing_trailing_pipe = true;  // tolerated: zero extensions
    pos = end == kNone ? in.size() : end + 1;
  }
  return std::nullopt;
}

// An odd run of backslashes right before `eq` escapes it (pairs are consumed
// left to right, and the run cannot reach back past the value's own '=').
bool is_escaped(std::string_view in, std::size_t from, std::size_t eq) {
  std::size_t run = 0;
  while (eq - run > from && in[eq - run - 1] == '\\') ++run;
  return run % 2 == 1;
}

struct Boundary {
  std::size_t space = kNone;  // the separating SP; the next key starts after it
  std::size_t equals = kNone;
  explicit operator bool() const { return space != kNone; }
};

// The first " KEY=" at or after `from`. Every other unescaped '=' on the way is
// literal value text and is reported in `flags`.
Boundary next_boundary(std::string_view in, std::size_t from, std::uint8_t& flags) {
  for (std::size_t eq = find_byte(in, from, '='); eq != kNone; eq = find_byte(in, eq + 1, '=')) {
    std::size_t key = eq;
    while (key > from && kKeyChar[static_cast<unsigned char>(in[key - 1])]) --key;
    if (key < eq && key > from && in[key - 1] == ' ' && is_key_start(in[key])) return {key - 1, eq};
    if (!is_escaped(in, from, eq)) flags |= kUnescapedEquals;
  }
  return {};
}

// Step 4 escape classification of one raw value.
std::uint8_t value_escape_flags(std::string_view raw) {
  std::uint8_t flags = 0;
  for (std::size_t at = find_byte(raw, 0, '\\'); at != kNone; at = find_byte(raw, at + 2, '\\')) {
    flags |= kHasEscape;
    if (at + 1 == raw.size()) return flags | kInvalidEscape;  // a final lone backslash stays
    switch (raw[at + 1]) {
      case '\\': case '=': case 'n': case 'r': break;
      case '|': flags |= kPipeEscape; break;
      default: flags |= kInvalidEscape;
    }
  }
  return flags;
}

// Trailing SP, TAB, CR and LF belong to no value: the final value is trimmed,
// and a remainder of only such bytes (e.g. "|5|\r" from a CRLF sender) means
// zero extensions.
std::size_t trimmed_end(std::string_view in, std::size_t from) {
  std::size_t end = in.size();
  while (end > from) {
    const char c = in[end - 1];
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') break;
    --end;
  }
  return end;
}

// Index of the '=' when `in` continues with KEY= at `pos`, else kNone.
std::size_t leading_key(std::string_view in, std::size_t pos) {
  if (pos >= in.size() || !is_key_start(in[pos])) return kNone;
  std::size_t end = pos + 1;
  while (end < in.size() && kKeyChar[static_cast<unsigned char>(in[end])]) ++end;
  return end < in.size() && in[end] == '=' ? end : kNone;
}

// Short lists compare pairwise; long ones sort views in a reused vector.
bool has_duplicate_keys(const std::vector<Extension>& exts, std::vector<std::string_view>& scratch) {
  if (exts.size() <= 16) {
    for (std::size_t i = 1; i < exts.size(); ++i)
      for (std::size_t j = 0; j < i; ++j)
        if (exts[i].key == exts[j].key) return true;
    return false;
  }
  scratch.clear();
  for (const Extension& e : exts) scratch.push_back(e.key);
  std::sort(scratch.begin(), scratch.end());
  return std::adjacent_find(scratch.begin(), scratch.end()) != scratch.end();
}

void add_extension(Event& out, std::string_view in, std::size_t key, std::size_t eq, std::size_t end,
                   std::uint8_t flags) {
  const std::string_view raw = in.substr(eq + 1, end - eq - 1);
  flags |= value_escape_flags(raw);
  out.extension_flags |= flags;
  out.extensions.push_back(Extension{in.substr(key, eq - key), raw, flags});
}

// Step 4 from just after the seventh '|'.
DecodeResult parse_extension(std::string_view in, std::size_t pos, Event& out) {
  while (pos < in.size() && in[pos] == ' ') ++pos;
  in = in.substr(0, trimmed_end(in, pos));
  if (pos == in.size()) return std::nullopt;
  DecodeResult result;
  std::size_t key = pos;
  std::size_t eq = leading_key(in, pos);
  if (eq == kNone) {
    out.failure = Failure::malformed_extension;
    result = DecodeError{pos, "CEF extension does not start with KEY="};
    std::uint8_t ignored = 0;
    const Boundary first = next_boundary(in, pos, ignored);
    out.discarded = in.substr(pos, first ? first.space - pos : kNone);
    if (!first) return result;
    key = first.space + 1;
    eq = first.equals;
  }
  for (;;) {
    std::uint8_t flags = 0;
    const Boundary next = next_boundary(in, eq + 1, flags);
    add_extension(out, in, key, eq, next ? next.space : in.size(), flags);
    if (!next) break;
    key = next.space + 1;
    eq = next.equals;
  }
  return result;
}

}  // namespace

void Event::clear() {
  std::vector<Extension> keep_extensions = std::move(extensions);
  std::vector<std::string_view> keep_scratch = std::move(key_scratch_);
  *this = Event{};
  keep_extensions.clear();
  extensions = std::move(keep_extensions);
  key_scratch_ = std::move(keep_scratch);
}

std::string Event::value(HeaderField f) const {
  return flags(f) & kHasEscape ? unescape_header(raw(f)) : std::string(raw(f));
}

DecodeResult decode(std::string_view in, Event& out) {
  out.clear();
  const std::size_t marker = in.find(kMarker);
  if (marker == kNone) {
    out.failure = Failure::no_cef;
    return DecodeError{0, "no CEF: in the frame"};
  }
  out.found_cef = true;
  out.prefix = in.substr(0, marker);
  std::size_t pos = marker + kMarker.size();
  if (auto err = parse_version(in, pos, out)) return err;
  if (auto err = parse_header(in, pos, out)) return err;
  DecodeResult result = parse_extension(in, pos, out);
  out.duplicate_keys = has_duplicate_keys(out.extensions, out.key_scratch_);
  return result;
}

std::string unescape_header(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const bool pair = raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '|' || raw[i + 1] == '\\');
    if (pair) ++i;  // keep the escaped character only; any other pair stays whole
    out += raw[i];
  }
  return out;
}

std::string unescape_value(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out += raw[i];
      continue;
    }
    switch (const char c = raw[++i]) {
      case '\\': case '=': case '|': out += c; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;  // CR, as ArcSight and beats (VRL differs, §5.5)
      default: out += '\\'; out += c;
    }
  }
  return out;
}

}  // namespace kumasim::formats::cef
