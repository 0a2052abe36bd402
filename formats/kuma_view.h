// The KUMA normalized event (kuma-receiver.md §4): what a KUMA collector's
// normalizer would have made of one raw event.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>

namespace kumasim::formats {

struct KumaEvent {
  // Named normalized fields: DeviceVendor, Name, Severity, Message, ...
  std::map<std::string, std::string> fields;
  // Source fields that no mapping covers ("Save extra fields").
  std::map<std::string, std::string> extra;
  // The original text, set when normalization failed (Keep raw event: Only errors).
  std::optional<std::string> raw;
};

// {"DeviceVendor": ..., ..., "Extra": {...}, "Raw": "..."}: the fields, then
// Extra and Raw when present.
nlohmann::json to_json(const KumaEvent& event);

}  // namespace kumasim::formats
