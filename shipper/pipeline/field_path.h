// Paths into the shipper's JSON event, as DKP writes them into VRL
// (dkp-log-shipper.md §7.2 and §8): filter fields, extraLabels keys and the
// `{{ path }}` templates of extraLabels values.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kumasim::shipper {

// One step: an object key, or an array index (negative counts from the end).
struct PathSegment {
  std::string key;
  std::int64_t index = 0;
  bool is_index = false;
  bool operator==(const PathSegment&) const = default;
};
using FieldPath = std::vector<PathSegment>;

struct PathError {
  std::size_t offset = 0;  // byte offset in the text
  std::string reason;
};

// A filter `field` (§7.2), relative to its base: `user.username`,
// `annotations."authorization.k8s.io/decision"`, `items[0].name`, `a[-1]`.
// Unquoted segments allow letters, digits, `_` and `@`; quoted ones take `\"`
// and `\\`. "" is the empty path (the base itself).
std::variant<FieldPath, PathError> parse_filter_path(std::string_view text);

// An extraLabels key (§8): dots nest; a key holding `-` is quoted whole, as
// one segment, as DKP writes it (`a.b-c` is the single field "a.b-c"). An
// error when VRL would reject the path DKP writes (`a..b`, `a.0`).
std::variant<FieldPath, PathError> label_key_path(std::string_view key);

// The inside of an extraLabels template `{{ path }}` (§8): `\.` is a literal
// dot, `[N]` indexes, segments with `-` are quoted. Relative to parsed_data.
std::variant<FieldPath, PathError> parse_template_path(std::string_view inner);

// The value at `path`; nullptr when missing, through a non-object/non-array,
// or out of range.
const nlohmann::json* lookup(const nlohmann::json& root, const FieldPath& path);

// VRL assignment: creates objects along the way, replacing scalars in the way;
// an index on a non-array makes an array, padded with nulls.
void assign(nlohmann::json& root, const FieldPath& path, nlohmann::json value);

}  // namespace kumasim::shipper
