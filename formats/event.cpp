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

std::string rust_float(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::array<char, 400> buf;  // the fixed form of the smallest subnormal needs ~330 characters
  const auto result = std::to_chars(buf.data(), buf.data() + buf.size(), value, std::chars_format::fixed);
  return std::string(buf.data(), result.ptr);
}

}  // namespace kumasim::formats::event
