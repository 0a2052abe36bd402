#include "formats/gelf.h"

#include "formats/event.h"
#include "formats/json.h"
#include "formats/timestamp.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <string_view>

namespace kumasim::formats::gelf {
namespace {

using Json = nlohmann::json;

// GELF 1.1 fields that Vector writes without the `_` prefix.
constexpr std::array<std::string_view, 9> kReserved = {"version", "host",  "short_message", "full_message", "timestamp",
                                                       "level",   "facility", "line",       "file"};

bool reserved(std::string_view key) { return std::find(kReserved.begin(), kReserved.end(), key) != kReserved.end(); }

// DKP's key rewrite: `.`, `/` and `-` become `_`.
std::string field_name(std::string key) {
  std::replace_if(key.begin(), key.end(), [](char c) { return c == '.' || c == '/' || c == '-'; }, '_');
  return key;
}

// VRL's to_string for what is left after flattening: numbers stay numbers.
Json scalar_value(const Json& value) {
  if (value.is_number()) return value;
  if (value.is_string()) return value;
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_null()) return "";
  if (value.is_array()) {
    std::string joined;
    for (const auto& item : value) {
      if (!joined.empty()) joined += ", ";
      if (item.is_string()) joined += item.get_ref<const std::string&>();
      else if (item.is_number_float()) joined += event::rust_float(item.get<double>());
      else json::encode(item, joined);
    }
    return joined;
  }
  std::string text;  // an empty object survives flattening
  json::encode(value, text);
  return text;
}

// Nested objects become `parent.child` keys (then rewritten by field_name).
void flatten(const Json& object, const std::string& prefix, Json& out) {
  for (const auto& [key, value] : object.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (value.is_object() && !value.empty()) flatten(value, name, out);
    else out[field_name(name)] = scalar_value(value);
  }
}

// Seconds since the epoch with millisecond precision; whole seconds as an integer.
std::optional<Json> gelf_timestamp(const Json& value) {
  if (!value.is_string()) return std::nullopt;
  const auto ns = parse_rfc3339(value.get_ref<const std::string&>());
  if (!ns) return std::nullopt;
  const std::int64_t millis = *ns / 1'000'000;
  if (millis % 1000 == 0) return Json(millis / 1000);
  return Json(static_cast<double>(millis) / 1000.0);
}

}  // namespace

std::optional<EncodeError> encode(const nlohmann::json& event, std::string& out) {
  out.clear();
  Json prepared = event;
  if (!prepared.contains("host") && prepared.contains("node")) prepared["host"] = prepared["node"];
  prepared.erase("timestamp_end");
  std::optional<Json> timestamp;
  if (const auto it = prepared.find("timestamp"); it != prepared.end()) {
    timestamp = gelf_timestamp(*it);
    if (!timestamp) return EncodeError::timestamp_invalid;
    prepared.erase(it);
  }
  Json flat = Json::object();
  flatten(prepared, "", flat);
  if (!flat.contains("host")) return EncodeError::host_missing;

  Json gelf = Json::object();
  for (auto& [key, value] : flat.items()) {
    if (key == "message") gelf["short_message"] = std::move(value);
    else gelf[reserved(key) || key.starts_with('_') ? key : "_" + key] = std::move(value);
  }
  if (timestamp) gelf["timestamp"] = std::move(*timestamp);
  gelf["version"] = "1.1";
  json::encode(gelf, out);
  return std::nullopt;
}

}  // namespace kumasim::formats::gelf
