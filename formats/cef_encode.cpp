// Vector's CEF encoder (lib/codecs/src/encoding/format/cef.rs) as DKP
// configures it, and DKP's CEF step before it (dkp-log-shipper.md §10.3).
#include "formats/cef.h"
#include "formats/event.h"
#include "formats/utf8.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>
#include <tuple>

namespace kumasim::formats::cef {
namespace {

using nlohmann::json;

constexpr std::size_t kNameMaxBytes = 512;
constexpr unsigned kSeverityMax = 10;

// Vector's get_log_event_value: absent, null, arrays and objects give "".
std::string to_cef_string(const json* v) {
  if (v == nullptr) return {};
  switch (v->type()) {
    case json::value_t::string: {
      std::string out;
      utf8::append_lossy(v->get_ref<const std::string&>(), out);  // String::from_utf8_lossy
      return out;
    }
    case json::value_t::number_integer: return std::to_string(v->get<std::int64_t>());
    case json::value_t::number_unsigned: return std::to_string(v->get<std::uint64_t>());
    case json::value_t::number_float: return event::rust_float(v->get<double>());
    case json::value_t::boolean: return v->get<bool>() ? "true" : "false";
    default: return {};
  }
}

// Rust's `str::parse::<u8>`: optional '+', then 1+ digits, value <= 255.
std::optional<unsigned> parse_u8(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  unsigned value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 255) return std::nullopt;
  }
  return value;
}

// Header fields: `\` then `|`, nothing else.
void append_header(std::string_view s, std::string& out) {
  for (const char c : s) {
    if (c == '\\' || c == '|') out += '\\';
    out += c;
  }
}

// Extension values: `\` then `=`; SP, `|`, CR and LF go out raw.
void append_value(std::string_view s, std::string& out) {
  for (const char c : s) {
    if (c == '\\' || c == '=') out += '\\';
    out += c;
  }
}

// Every extension pair "key=value" with a non-empty value, sorted byte-wise as whole strings.
std::vector<std::string> extension_pairs(const json& event, const EncoderConfig& cfg) {
  std::vector<std::string> pairs;
  pairs.reserve(cfg.extensions.size());
  for (const auto& [key, path] : cfg.extensions) {
    const std::string value = to_cef_string(event::find(event, path));
    if (value.empty()) continue;
    std::string pair = key + "=";
    append_value(value, pair);
    pairs.push_back(std::move(pair));
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

const std::vector<std::pair<std::string, std::string>>& base_map(std::string_view profile) {
  static const std::vector<std::pair<std::string, std::string>> kGenAB = {
      {"container", "container"}, {"host", "host"}, {"image", "image"}, {"message", "message"},
      {"namespace", "namespace"}, {"node", "node"}, {"pod", "pod"}, {"podip", "pod_ip"},
      {"podowner", "pod_owner"}, {"timestamp", "timestamp"}};
  static const std::vector<std::pair<std::string, std::string>> kGenC = {
      {"file", "file"}, {"host", "host"}, {"hostip", "host_ip"}, {"message", "message"}, {"timestamp", "timestamp"}};
  if (profile == "gen-a" || profile == "gen-b") return kGenAB;
  if (profile == "gen-c") return kGenC;
  throw std::invalid_argument("unknown log-shipper profile: " + std::string(profile));
}

}  // namespace

std::string normalize_key(std::string_view label_key) {
  std::string out;
  for (const char c : label_key) {
    const bool digit = c >= '0' && c <= '9';
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (digit) out += c;
    if (letter) out += static_cast<char>(c | 0x20);
  }
  return out;
}

EncoderConfig config_for_profile(std::string_view profile, const std::vector<std::string>& extra_label_keys) {
  EncoderConfig cfg;
  cfg.extensions = base_map(profile);
  if (profile == "gen-a") return cfg;  // a static list: extraLabels never become extensions
  std::vector<std::string> labels = extra_label_keys;
  std::sort(labels.begin(), labels.end());  // DKP processes labels in byte order; the later one wins
  for (const std::string& label : labels) {
    std::string key = normalize_key(label);
    const auto same = std::find_if(cfg.extensions.begin(), cfg.extensions.end(),
                                   [&](const auto& entry) { return entry.first == key; });
    if (same != cfg.extensions.end()) cfg.extensions.erase(same);
    cfg.extensions.emplace_back(std::move(key), label);
  }
  return cfg;
}

std::optional<std::string> config_error(const EncoderConfig& cfg) {
  const std::array<std::tuple<const std::string*, std::string_view, std::size_t>, 3> fields = {{
      {&cfg.device_vendor, "device_vendor", 63}, {&cfg.device_product, "device_product", 63},
      {&cfg.device_version, "device_version", 31}}};
  for (const auto& [value, name, max] : fields) {
    std::string escaped;
    append_header(*value, escaped);
    if (escaped.size() <= max) continue;
    return "LogEvent field \"" + std::string(name) + "\" with the value \"" + escaped + "\" exceed " +
           std::to_string(max) + " characters limit: actual " + std::to_string(escaped.size());
  }
  std::string invalid;
  for (const auto& entry : cfg.extensions) {
    const std::string& key = entry.first;
    const bool letters = std::all_of(key.begin(), key.end(), [](char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; });
    if (letters) continue;
    invalid += (invalid.empty() ? "" : ", ") + key;
  }
  if (invalid.empty()) return std::nullopt;
  return "LogEvent extension keys can only contain ascii alphabetical characters: invalid key \"" + invalid + "\"";
}

void apply_cef_step(json& event) {
  // VRL: `exists` is true for a null value; assigning below a non-object replaces it by an object.
  if (!event.contains("cef")) event["cef"] = json::object();
  json& cef = event["cef"];
  if (!cef.is_object()) cef = json::object();
  if (!cef.contains("name")) cef["name"] = "Deckhouse Event";
  if (!cef.contains("severity")) {
    cef["severity"] = "5";
    return;
  }
  json& severity = cef["severity"];
  if (!severity.is_string()) return;
  static const std::array<std::pair<std::string_view, std::string_view>, 7> kWords = {{
      {"Debug", "0"}, {"Informational", "3"}, {"Notice", "4"}, {"Warning", "6"},
      {"Error", "7"}, {"Critical", "8"}, {"Emergency", "10"}}};
  for (const auto& [word, number] : kWords)
    if (severity.get_ref<const std::string&>() == word) severity = std::string(number);
}

std::optional<EncodeError> encode(const json& event, const EncoderConfig& cfg, std::string& out) {
  out.clear();
  const std::optional<unsigned> severity = parse_u8(to_cef_string(event::find(event, "cef.severity")));
  if (!severity || *severity > kSeverityMax) return EncodeError::severity_invalid;
  std::string name;
  append_header(to_cef_string(event::find(event, "cef.name")), name);
  if (name.size() > kNameMaxBytes) return EncodeError::name_too_long;

  out += "CEF:1|";
  for (const std::string* field : {&cfg.device_vendor, &cfg.device_product, &cfg.device_version}) {
    append_header(*field, out);
    out += '|';
  }
  out += "Log event|";
  out += name;
  out += '|';
  out += std::to_string(*severity);
  const std::vector<std::string> pairs = extension_pairs(event, cfg);
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    out += i == 0 ? '|' : ' ';
    out += pairs[i];
  }
  return std::nullopt;
}

}  // namespace kumasim::formats::cef
