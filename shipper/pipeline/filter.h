// labelFilter, logFilter and rateLimit.excludes conditions with the exact
// semantics of DKP's generated VRL (dkp-log-shipper.md §7): six operators,
// type-sensitive membership, Rust-regex dialect through RE2 with textual anchors.
#pragma once

#include "shipper/pipeline/field_path.h"
#include "shipper/manifest/manifest.h"

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace re2 {
class RE2;
}

namespace kumasim::shipper {

// §7.4: `^` prepended unless the value starts with `^`, `$` appended unless it
// ends with `$` (escaped or not, as DKP tests the suffix); \d \w \s (and \D \W
// \S, also inside classes) rewritten to their Unicode meaning for RE2.
std::string anchored_pattern(std::string_view value);

struct FilterError {
  // "regex-invalid", "filter-path-invalid"; "regex-unsupported" for Rust regex
  // syntax RE2 would read differently; the rate limiter adds "rate-limit-zero"
  // and "rate-limit-invalid".
  std::string code;
  std::string message;
};

// One compiled condition. `base` is prepended to the field path: {"parsed_data"}
// for logFilter, empty for labelFilter and rateLimit excludes.
class Condition {
 public:
  static std::variant<Condition, FilterError> compile(const FilterSpec& spec, const FieldPath& base);
  // true: the event passes (keep). Errors count as false (§7.1).
  bool keep(const nlohmann::json& event) const;

 private:
  FieldPath path_;
  FilterOperator op_ = FilterOperator::exists;
  std::vector<FilterValue> values_;
  std::vector<std::shared_ptr<const re2::RE2>> regexes_;
};

// Every condition must keep the event (AND, in list order).
bool keep_all(const std::vector<Condition>& conditions, const nlohmann::json& event);

}  // namespace kumasim::shipper
