// What KUMA makes of a decoded CEF event: the decode-output fields, the KUMA
// normalized view (kuma-receiver.md §4.2) and the cef-* lints (§8).
#include "formats/cef.h"
#include "formats/utf8.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_set>

namespace kumasim::formats::cef {
namespace {

constexpr std::array<std::string_view, kHeaderFields> kFieldNames = {
    "device_vendor", "device_product", "device_version", "signature_id", "name", "severity"};
constexpr std::array<std::string_view, kHeaderFields> kKumaHeaderFields = {
    "DeviceVendor", "DeviceProduct", "DeviceVersion", "DeviceEventClassID", "Name", "Severity"};
// §5.1 length limits in code points; Severity has none.
constexpr std::array<std::size_t, kHeaderFields> kMaxCodePoints = {63, 63, 31, 1023, 512, 0};

struct Mapping {
  std::string_view key;
  std::string_view field;
};

// §4.2: the short ArcSight keys KUMA maps; every other key lands in Extra.
constexpr std::array<Mapping, 46> kDictionary{{
    {"msg", "Message"}, {"src", "SourceAddress"}, {"dst", "DestinationAddress"},
    {"spt", "SourcePort"}, {"dpt", "DestinationPort"}, {"shost", "SourceHostName"},
    {"dhost", "DestinationHostName"}, {"suser", "SourceUserName"}, {"duser", "DestinationUserName"},
    {"dvc", "DeviceAddress"}, {"dvchost", "DeviceHostName"}, {"act", "DeviceAction"},
    {"app", "ApplicationProtocol"}, {"proto", "TransportProtocol"}, {"cat", "DeviceEventCategory"},
    {"outcome", "EventOutcome"}, {"reason", "Reason"}, {"request", "RequestUrl"},
    {"requestMethod", "RequestMethod"}, {"in", "BytesIn"}, {"out", "BytesOut"},
    {"rt", "DeviceReceiptTime"}, {"start", "StartTime"}, {"end", "EndTime"},
    {"externalId", "ExternalID"}, {"fname", "FileName"}, {"deviceProcessName", "DeviceProcessName"},
    {"cs1", "DeviceCustomString1"}, {"cs2", "DeviceCustomString2"}, {"cs3", "DeviceCustomString3"},
    {"cs4", "DeviceCustomString4"}, {"cs5", "DeviceCustomString5"}, {"cs6", "DeviceCustomString6"},
    {"cs1Label", "DeviceCustomString1Label"}, {"cs2Label", "DeviceCustomString2Label"},
    {"cs3Label", "DeviceCustomString3Label"}, {"cs4Label", "DeviceCustomString4Label"},
    {"cs5Label", "DeviceCustomString5Label"}, {"cs6Label", "DeviceCustomString6Label"},
    {"cn1", "DeviceCustomNumber1"}, {"cn2", "DeviceCustomNumber2"}, {"cn3", "DeviceCustomNumber3"},
    {"cn1Label", "DeviceCustomNumber1Label"}, {"cn2Label", "DeviceCustomNumber2Label"},
    {"cn3Label", "DeviceCustomNumber3Label"},
}};

constexpr auto kByKey = [] {
  auto sorted = kDictionary;
  std::sort(sorted.begin(), sorted.end(), [](const Mapping& a, const Mapping& b) { return a.key < b.key; });
  return sorted;
}();

std::string_view kuma_field(std::string_view key) {
  const auto it = std::lower_bound(kByKey.begin(), kByKey.end(), key,
                                   [](const Mapping& m, std::string_view k) { return m.key < k; });
  return it != kByKey.end() && it->key == key ? it->field : std::string_view{};
}

// §3 silent type failure: an *Address field takes only an IP address.
bool fits_field(std::string_view field, const std::string& value) {
  if (!field.ends_with("Address")) return true;
  if (value.find('\0') != std::string::npos) return false;  // inet_pton would stop there
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, value.c_str(), buf) == 1 || inet_pton(AF_INET6, value.c_str(), buf) == 1;
}

// Comma-separated list that keeps the first occurrence of each item.
class ItemList {
 public:
  void add(std::string item) {
    if (!seen_.insert(item).second) return;
    if (!text_.empty()) text_ += ',';
    text_ += item;
  }
  const std::string& text() const { return text_; }

 private:
  std::unordered_set<std::string> seen_;
  std::string text_;
};

// Lint details must stay printable JSON: valid UTF-8, at most about `max` bytes.
std::string clip(std::string_view text, std::size_t max = 64) {
  std::string out;
  if (text.size() <= max) {
    utf8::append_lossy(text, out);
    return out;
  }
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole code points
  utf8::append_lossy(text.substr(0, cut), out);
  return out + "\xE2\x80\xA6";  // "…"
}

bool severity_valid(std::string_view s) {
  static constexpr std::array<std::string_view, 5> kWords = {"Unknown", "Low", "Medium", "High", "Very-High"};
  if (std::find(kWords.begin(), kWords.end(), s) != kWords.end()) return true;
  if (s.empty()) return false;
  unsigned value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
    value = std::min(value * 10 + static_cast<unsigned>(c - '0'), 11u);  // saturate above the limit
  }
  return value <= 10;
}

// Positions (header fields, extension keys) whose raw value has `flag`.
std::string positions_with(const Event& e, std::uint8_t flag) {
  ItemList list;
  for (std::size_t i = 0; i < e.header_fields; ++i)
    if (e.header_flags[i] & flag) list.add(std::string("header.").append(kFieldNames[i]));
  for (const Extension& x : e.extensions)
    if (x.flags & flag) list.add(std::string(x.key));
  return list.text();
}

std::string duplicated_keys(const Event& e) {
  std::unordered_set<std::string_view> seen;
  ItemList list;
  for (const Extension& x : e.extensions)
    if (!seen.insert(x.key).second) list.add(std::string(x.key));
  return list.text();
}

std::string too_long_fields(const Event& e) {
  ItemList list;
  for (std::size_t i = 0; i < e.header_fields; ++i) {
    if (kMaxCodePoints[i] == 0) continue;
    const std::string value = e.value(static_cast<HeaderField>(i));
    if (utf8::code_points(value) > kMaxCodePoints[i]) list.add(std::string(kFieldNames[i]));
  }
  return list.text();
}

std::string nonstandard_keys(const Event& e) {
  ItemList list;
  for (const Extension& x : e.extensions)
    if (!is_dictionary_key(x.key)) list.add(std::string(x.key));
  return list.text();
}

void add_if(Lints& out, LintId id, std::string detail) {
  if (!detail.empty()) out.push_back(Lint{id, std::move(detail)});
}

}  // namespace

bool is_dictionary_key(std::string_view key) { return !kuma_field(key).empty(); }

nlohmann::json fields_json(const Event& e) {
  nlohmann::json j = nlohmann::json::object();
  if (!e.prefix.empty()) j["prefix"] = std::string(e.prefix);
  if (e.version >= 0) j["version"] = e.version;
  for (std::size_t i = 0; i < e.header_fields; ++i) j[std::string(kFieldNames[i])] = e.value(static_cast<HeaderField>(i));
  if (e.header_fields < kHeaderFields) return j;
  nlohmann::json& ext = j["extensions"] = nlohmann::json::object();
  for (const Extension& x : e.extensions) ext[std::string(x.key)] = x.value();  // last duplicate wins
  return j;
}

KumaEvent kuma_view(const Event& e) {
  KumaEvent k;
  if (!e.prefix.empty()) k.extra["cefPrefix"] = std::string(e.prefix);
  if (e.version >= 0) k.extra["cefVersion"] = std::string(e.version_text);
  for (std::size_t i = 0; i < e.header_fields; ++i)
    k.fields[std::string(kKumaHeaderFields[i])] = e.value(static_cast<HeaderField>(i));
  for (const Extension& x : e.extensions) {
    const std::string_view field = kuma_field(x.key);
    std::string value = x.value();
    if (field.empty()) {
      k.extra[std::string(x.key)] = std::move(value);
    } else if (fits_field(field, value)) {
      k.fields[std::string(field)] = std::move(value);
    } else {
      k.fields.erase(std::string(field));  // the last duplicate wins, even when it is dropped
    }
  }
  return k;
}

void add_lints(const Event& e, Lints& out) {
  using enum LintId;
  if (!e.found_cef) return;  // frame-not-cef is the normalizer's
  if (e.failure == Failure::bad_version || e.failure == Failure::incomplete_header) {
    out.push_back({cef_incomplete_header, e.failure == Failure::bad_version ? "bad-version" : "truncated"});
    return;
  }
  if (e.version == 1) out.push_back({cef_version_1, ""});
  if (e.version > 1) out.push_back({cef_version_unknown, std::string(e.version_text)});
  if (e.missing_trailing_pipe) out.push_back({cef_missing_trailing_pipe, ""});
  if (e.failure == Failure::malformed_extension) out.push_back({cef_malformed_extension, clip(e.discarded)});
  add_if(out, cef_unescaped_equals, positions_with(e, kUnescapedEquals));
  add_if(out, cef_pipe_escape_in_extension, positions_with(e, kPipeEscape));
  add_if(out, cef_invalid_escape, positions_with(e, kInvalidEscape));
  if (e.duplicate_keys) out.push_back({cef_duplicate_key, duplicated_keys(e)});
  const std::string severity = e.value(HeaderField::severity);
  if (!severity_valid(severity)) out.push_back({cef_severity_invalid, clip(severity)});
  add_if(out, cef_header_field_too_long, too_long_fields(e));
  add_if(out, cef_nonstandard_extension_keys, nonstandard_keys(e));
}

}  // namespace kumasim::formats::cef
