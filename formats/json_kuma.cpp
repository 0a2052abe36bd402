#include "formats/json.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace kumasim::formats::json {
namespace {

// "Save extra fields": every leaf under its dotted path; strings as they are,
// other leaves (numbers, booleans, null, empty containers) as compact JSON.
void flatten(const nlohmann::json& value, const std::string& path, std::map<std::string, std::string>& extra) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items()) flatten(child, path.empty() ? key : path + "." + key, extra);
  } else if (value.is_array() && !value.empty()) {
    for (std::size_t i = 0; i < value.size(); ++i) flatten(value[i], path + "." + std::to_string(i), extra);
  } else if (value.is_string()) {
    extra[path] = value.get<std::string>();
  } else {
    std::string text;
    encode(value, text);
    extra[path] = std::move(text);
  }
}

}  // namespace

KumaEvent kuma_view(const nlohmann::json& object, const std::vector<std::string>& parse_nested) {
  KumaEvent event;
  nlohmann::json copy = object;
  for (const auto& name : parse_nested) {
    auto field = copy.find(name);
    if (field == copy.end() || !field->is_string()) continue;
    auto nested = nlohmann::json::parse(field->get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (nested.is_object()) *field = std::move(nested);
  }
  flatten(copy, "", event.extra);
  return event;
}

}  // namespace kumasim::formats::json
