#include "formats/json.h"

#include <nlohmann/json.hpp>

#include <span>

namespace kumasim::formats::json {
namespace {

std::string leaf_text(const nlohmann::json& value) {
  if (value.is_string()) return value.get<std::string>();
  std::string text;
  encode(value, text);
  return text;
}

// "Save extra fields": every leaf under its dotted path; strings as they are,
// other leaves (numbers, booleans, null, empty containers) as compact JSON.
void flatten(const nlohmann::json& value, const std::string& path, std::map<std::string, std::string>& extra) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items()) flatten(child, path + "." + key, extra);
  } else if (value.is_array() && !value.empty()) {
    for (std::size_t i = 0; i < value.size(); ++i) flatten(value[i], path + "." + std::to_string(i), extra);
  } else {
    extra[path] = leaf_text(value);
  }
}

// Moves the value at `keys` out of `object`; null when the path is missing.
// A parent that the move leaves empty goes too: it held only mapped leaves.
nlohmann::json take(nlohmann::json& object, std::span<const std::string> keys) {
  const auto it = object.find(keys.front());
  if (it == object.end()) return nullptr;
  nlohmann::json value;
  if (keys.size() == 1) {
    value = std::move(*it);
  } else if (it->is_object()) {
    value = take(*it, keys.subspan(1));
    if (value.is_null() || !it->empty()) return value;
  } else {
    return nullptr;
  }
  object.erase(it);
  return value;
}

}  // namespace

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> keys(1);
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 1 < path.size() && path[i + 1] == '.') {
      keys.back() += '.';
      ++i;
    } else if (path[i] == '.') {
      keys.emplace_back();
    } else {
      keys.back() += path[i];
    }
  }
  return keys;
}

KumaEvent kuma_view(const nlohmann::json& object, const JsonNormalizerConfig& config) {
  KumaEvent event;
  nlohmann::json copy = object;
  for (const auto& name : config.parse_nested) {
    auto field = copy.find(name);
    if (field == copy.end() || !field->is_string()) continue;
    auto nested = nlohmann::json::parse(field->get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (nested.is_object()) *field = std::move(nested);
  }
  for (const auto& [path, field] : config.mapping) {
    const nlohmann::json value = take(copy, split_path(path));
    if (!value.is_null()) event.fields[field] = leaf_text(value);
  }
  for (const auto& [key, child] : copy.items()) flatten(child, key, event.extra);
  return event;
}

}  // namespace kumasim::formats::json
