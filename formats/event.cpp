#include "formats/event.h"

#include <nlohmann/json.hpp>

#include <array>
#include <charconv>
#include <cmath>

namespace kumasim::formats::event {

const nlohmann::json* find(const nlohmann::json& event, std::string_view dotted_path) {
  const nlohmann::json* node = &event;
  for (;;) {
    const std::size_t dot = dotted_path.find('.');
    if (!node->is_object()) return nullptr;
    const auto it = node->find(dotted_path.substr(0, dot));
    if (it == node->end()) return nullptr;
    node = &*it;
    if (dot == std::string_view::npos) return node;
    dotted_path.remove_prefix(dot + 1);
  }
}

// Rust's Display prints the shortest round-trip digits positionally: 1e23 is
// "100000000000000000000000", not the exact binary value 99999999999999991611392.
std::string rust_float(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::array<char, 32> buf;
  const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::scientific);
  const std::string_view scientific(buf.data(), static_cast<std::size_t>(result.ptr - buf.data()));
  const std::size_t e = scientific.find('e');
  std::string out = scientific.front() == '-' ? "-" : "";
  std::string digits;
  for (char c : scientific.substr(0, e))
    if (c >= '0' && c <= '9') digits += c;
  int exponent = 0;
  std::from_chars(scientific.data() + e + 1 + (scientific[e + 1] == '+'), scientific.data() + scientific.size(), exponent);
  const int count = static_cast<int>(digits.size());
  if (exponent >= count - 1) return out + digits + std::string(static_cast<std::size_t>(exponent - count + 1), '0');
  if (exponent >= 0) return out + digits.insert(static_cast<std::size_t>(exponent + 1), ".");
  return out + "0." + std::string(static_cast<std::size_t>(-exponent - 1), '0') + digits;
}

}  // namespace kumasim::formats::event
