#include "formats/json.h"
#include "formats/utf8.h"

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <system_error>

namespace kumasim::formats::json {
namespace {

// serde_json's escape for each byte below 0x20, '"' and '\\'; 0 means "write raw",
// 'u' means \u00XX with lowercase hex.
constexpr char escape_for(unsigned char c) {
  switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '\b': return 'b';
    case '\t': return 't';
    case '\n': return 'n';
    case '\f': return 'f';
    case '\r': return 'r';
    default: return c < 0x20 ? 'u' : 0;
  }
}

// escape_for() of every byte, looked up once: the loop below is the shipper's hottest.
constexpr auto kEscapes = [] {
  std::array<char, 256> table{};
  for (int c = 0; c < 256; ++c) table[static_cast<std::size_t>(c)] = escape_for(static_cast<unsigned char>(c));
  return table;
}();

void escape_valid_utf8(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + text.size() + text.size() / 8);  // audit records escape about one byte in ten
  std::size_t run = 0;  // start of the pending run of bytes written raw
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const char e = kEscapes[c];
    if (e == 0) continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    out.push_back('\\');
    out.push_back(e);
    if (e == 'u') {
      out.append("00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  out.append(text.data() + run, text.size() - run);
}

template <class Integer>
void encode_integer(Integer value, std::string& out) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, end);
}

void encode_object(const nlohmann::json& object, std::string& out) {
  // nlohmann's object_t is a std::map<std::string, ...>: std::string's ordering
  // compares as unsigned char, i.e. by UTF-8 bytes, which is serde_json's order.
  out.push_back('{');
  bool first = true;
  for (const auto& [key, value] : object.items()) {
    if (!first) out.push_back(',');
    first = false;
    encode_string(key, out);
    out.push_back(':');
    encode(value, out);
  }
  out.push_back('}');
}

void encode_array(const nlohmann::json& array, std::string& out) {
  out.push_back('[');
  bool first = true;
  for (const auto& element : array) {
    if (!first) out.push_back(',');
    first = false;
    encode(element, out);
  }
  out.push_back(']');
}

void encode_bytes(const std::vector<std::uint8_t>& bytes, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out.push_back(',');
    encode_integer(bytes[i], out);
  }
  out.push_back(']');
}

}  // namespace

void encode_string(std::string_view text, std::string& out) {
  out.push_back('"');
  if (utf8::is_valid(text)) {
    escape_valid_utf8(text, out);
  } else {
    std::string repaired;
    utf8::append_lossy(text, repaired);
    escape_valid_utf8(repaired, out);
  }
  out.push_back('"');
}

void encode_double(double value, std::string& out) {
  if (!std::isfinite(value)) {  // serde_json writes NaN and infinities as null
    out.append("null");
    return;
  }
  if (value == 0) {
    out.append(std::signbit(value) ? "-0.0" : "0.0");
    return;
  }
  // Shortest round-trip digits from to_chars ("-d.ddde±XX"), laid out as ryu does.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(end - buf));
  if (sci.front() == '-') {
    out.push_back('-');
    sci.remove_prefix(1);
  }
  const std::size_t e = sci.find('e');
  std::string digits(sci.substr(0, e));
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  const int exponent = std::atoi(std::string(sci.substr(e + 1)).c_str());
  const int length = static_cast<int>(digits.size());
  const int kk = exponent + 1;  // 10^(kk-1) <= |value| < 10^kk
  const int k = kk - length;
  if (k >= 0 && kk <= 16) {
    out.append(digits).append(static_cast<std::size_t>(k), '0').append(".0");
  } else if (kk > 0 && kk <= 16) {
    out.append(digits, 0, static_cast<std::size_t>(kk)).push_back('.');
    out.append(digits, static_cast<std::size_t>(kk));
  } else if (kk > -5 && kk <= 0) {
    out.append("0.").append(static_cast<std::size_t>(-kk), '0').append(digits);
  } else {
    out.push_back(digits[0]);
    if (length > 1) out.append(".").append(digits, 1);
    out.push_back('e');
    encode_integer(kk - 1, out);
  }
}

void encode(const nlohmann::json& value, std::string& out) {
  using value_t = nlohmann::json::value_t;
  switch (value.type()) {
    case value_t::null:
    case value_t::discarded: out.append("null"); return;
    case value_t::boolean: out.append(value.get<bool>() ? "true" : "false"); return;
    case value_t::number_integer: encode_integer(value.get<std::int64_t>(), out); return;
    case value_t::number_unsigned: encode_integer(value.get<std::uint64_t>(), out); return;
    case value_t::number_float: encode_double(value.get<double>(), out); return;
    case value_t::string: encode_string(value.get_ref<const std::string&>(), out); return;
    case value_t::object: encode_object(value, out); return;
    case value_t::array: encode_array(value, out); return;
    case value_t::binary: encode_bytes(value.get_binary(), out); return;  // as serde writes a Vec<u8>
  }
}

}  // namespace kumasim::formats::json
