// Vector templates as DKP's Kafka sink uses them (dkp-log-shipper.md §11.3):
// `{{ field }}` from the event, strftime items (`%Y-%m-%d`) at the current
// UTC time, because the event's `timestamp` is a string by then.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kumasim::shipper {

class TopicTemplate {
 public:
  explicit TopicTemplate(std::string_view text);
  // nullopt when a field is missing: the event is dropped and counted.
  std::optional<std::string> render(const nlohmann::json& event, std::int64_t now_ns) const;

 private:
  struct Part {
    std::string text;  // literal (may hold strftime items), or the field path
    bool field = false;
  };
  std::vector<Part> parts_;
  bool has_strftime_ = false;
};

// A top-level value as bytes for a Kafka key or a template: strings raw,
// numbers in decimal, booleans and null as words, objects and arrays as JSON.
std::string value_bytes(const nlohmann::json& value);

}  // namespace kumasim::shipper
