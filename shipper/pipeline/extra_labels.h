// extraLabels (dkp-log-shipper.md §8): static strings and `{{ path }}`
// templates read from parsed_data, assigned in byte-sorted key order.
#pragma once

#include "shipper/pipeline/field_path.h"

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kumasim::shipper {

class ExtraLabels {
 public:
  struct Error {
    std::string key, code, message;  // code: "extralabel-value-invalid", "extralabel-key-invalid", "extralabel-key-forbidden"
  };
  // The labels must already have passed validation; errors here name the first bad one.
  static std::variant<ExtraLabels, Error> compile(const std::map<std::string, std::string>& labels);

  bool empty() const { return assignments_.empty(); }
  // Creates parsed_data from `message` if absent (see parse_message), then assigns.
  void apply(nlohmann::json& event) const;

 private:
  struct Assignment {
    FieldPath target;
    std::optional<std::string> static_value;
    FieldPath source;  // under parsed_data, when a template
  };
  std::vector<Assignment> assignments_;
};

// parsed_data of §7.2: the JSON value of `message` (repeated key: last wins;
// integers in int64 stay integers, other numbers floats), or the raw message
// string when it does not parse. A missing message gives null; a non-string
// one is copied as it is (parse_json fails, and DKP assigns .message).
nlohmann::json parse_message(const nlohmann::json& event);

}  // namespace kumasim::shipper
