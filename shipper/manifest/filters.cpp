// labelFilter, logFilter and rateLimit.excludes entries (dkp-log-shipper.md
// §4, §5, §7): the CRD's rules, then whether DKP's generated VRL would compile.
#include "shipper/pipeline/filter.h"
#include "shipper/manifest/kinds.h"
#include "shipper/manifest/rules.h"

namespace kumasim::shipper::detail {
namespace {

const Schema kFilter{{"field", "operator", "values"}};
const std::vector<std::string_view> kOperators = {"In", "NotIn", "Regex", "NotRegex", "Exists", "DoesNotExist"};

FilterOperator operator_from(std::string_view name) {
  if (name == "In") return FilterOperator::in;
  if (name == "NotIn") return FilterOperator::not_in;
  if (name == "Regex") return FilterOperator::regex;
  if (name == "NotRegex") return FilterOperator::not_regex;
  if (name == "Exists") return FilterOperator::exists;
  return FilterOperator::does_not_exist;
}

bool takes_values(FilterOperator op) { return op != FilterOperator::exists && op != FilterOperator::does_not_exist; }
bool is_regex(FilterOperator op) { return op == FilterOperator::regex || op == FilterOperator::not_regex; }

FieldPath base_of(FilterList list) {
  if (list == FilterList::log_filter) return {PathSegment{.key = "parsed_data"}};
  return {};
}

// An int-or-string item: YAML keeps the type, so `200` and "200" differ (§7.3).
std::optional<FilterValue> read_value(Doc& doc, const YAML::Node& node, const std::string& path) {
  const YamlType type = yaml_type(node);
  if (type == YamlType::string) return node.Scalar();
  if (type == YamlType::integer) {
    if (auto value = yaml_integer(node)) return *value;
  }
  std::string found(describe_type(type));
  if (node.IsScalar()) found += " (`" + node.Scalar() + "`)";
  doc.error(node, path, "type",
            "expected an integer or a string, found " + found + "; quote it to compare as a string; " +
                std::string(kRejected));
  return std::nullopt;
}

// A value with its index in the YAML list, for the path of later findings.
struct IndexedValue {
  std::size_t index = 0;
  FilterValue value;
};

// The values that are integers or strings; the others are reported and left out.
std::vector<IndexedValue> read_values(const ObjectReader& entry) {
  std::vector<IndexedValue> values;
  const YAML::Node list = entry.sequence("values");
  if (!list.IsDefined()) return values;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (auto value = read_value(entry.doc(), list[i], index_path(entry.path_of("values"), i))) {
      values.push_back({i, std::move(*value)});
    }
  }
  return values;
}

// Counted on the list as written, mistyped items included, as the API server counts.
void check_cardinality(const ObjectReader& entry, FilterOperator op, const std::string& name) {
  const YAML::Node list = entry.get("values");
  const std::size_t written = list.IsDefined() && list.IsSequence() ? list.size() : 0;
  if (takes_values(op) == (written > 0)) return;
  const std::string rule = takes_values(op) ? name + " needs at least one value" : name + " takes no values";
  const Location at = list.IsDefined() ? location_of(list) : location_of(entry.node());
  entry.doc().error(at, entry.path_of("values"), "filter-values-cardinality", rule + "; " + std::string(kRejected));
}

// filter.h's finding, with what it means for DKP: "regex-unsupported" is a
// Rust feature Vector accepts but RE2 cannot reproduce.
void report(const ObjectReader& entry, const std::string& path, const YAML::Node& at, const FilterError& error) {
  const std::string tail = error.code == "regex-unsupported"
                               ? "DKP's agent would accept it, but kumasim-shipper cannot reproduce it"
                               : std::string(kAgentFails);
  entry.doc().error(at, path, error.code, error.message + "; " + tail);
}

void check_regex_value(const ObjectReader& entry, FilterOperator op, const IndexedValue& item) {
  const std::string path = index_path(entry.path_of("values"), item.index);
  const YAML::Node list = entry.get("values");
  const YAML::Node at = list[item.index];
  // compile() also refuses a `'`, which would end the raw string r'...' DKP writes.
  const auto compiled = Condition::compile(FilterSpec{"", op, {item.value}}, {});
  if (const auto* error = std::get_if<FilterError>(&compiled)) {
    report(entry, path, at, *error);
    return;
  }
  const auto* text = std::get_if<std::string>(&item.value);
  if (text != nullptr && has_top_level_alternation(*text)) {
    entry.doc().warn(at, path, "regex-alternation-anchoring",
                     "DKP anchors the value textually (`^` before, `$` after) without a group, so the anchors bind "
                     "to the first and last alternatives only: it matches values that start with the first or end "
                     "with the last; write ^(...)$ to match whole values");
  }
}

// Whether DKP's generated VRL would compile the field path.
void check_field_path(const ObjectReader& entry, const std::string& field, FilterList list) {
  const auto compiled = Condition::compile(FilterSpec{field, FilterOperator::exists, {}}, base_of(list));
  if (const auto* error = std::get_if<FilterError>(&compiled)) {
    report(entry, entry.path_of("field"), entry.get("field"), *error);
  }
}

// §15.3-§15.4: the CRD's description of these operators is wrong; say what the code does.
void warn_semantics(const ObjectReader& entry, FilterOperator op) {
  const YAML::Node at = entry.get("operator");
  const std::string path = entry.path_of("operator");
  switch (op) {
    case FilterOperator::in:
      entry.doc().warn(at, path, "filter-in-exact",
                       "In keeps the event only when the field equals one of the values exactly and with the same "
                       "type (200 is not \"200\"); it is not the substring match the CRD text describes");
      break;
    case FilterOperator::not_in:
      entry.doc().warn(at, path, "filter-in-exact",
                       "NotIn drops the event when the field equals one of the values exactly and with the same "
                       "type, and also when the field is missing or null; no substring matching");
      break;
    case FilterOperator::exists:
      entry.doc().warn(at, path, "filter-exists-semantics",
                       "Exists keeps the event when the field is present (even as null) and drops it when missing; "
                       "the CRD text says the opposite");
      break;
    case FilterOperator::does_not_exist:
      entry.doc().warn(at, path, "filter-exists-semantics",
                       "DoesNotExist keeps the event only when the field is missing; the CRD text says the opposite");
      break;
    default: break;
  }
}

// Each check runs on what it needs, so one mistyped field hides no other finding.
std::optional<FilterSpec> read_filter(const ObjectReader& entry, FilterList list) {
  const auto field = entry.string("field", Need::required);
  const auto name = entry.enumeration("operator", kOperators, Need::required);
  const std::vector<IndexedValue> values = read_values(entry);
  const std::optional<FilterOperator> op = name ? std::optional(operator_from(*name)) : std::nullopt;
  if (field) {
    if (list == FilterList::label_filter && field->empty()) {
      entry.doc().error(entry.get("field"), entry.path_of("field"), "label-filter-field-empty",
                        "a labelFilter field must not be empty (the CRD's pattern `.+`); " + std::string(kRejected));
    }
    check_field_path(entry, *field, list);
  }
  if (op) {
    check_cardinality(entry, *op, *name);
    if (is_regex(*op)) {
      for (const IndexedValue& item : values) check_regex_value(entry, *op, item);
    }
    warn_semantics(entry, *op);
  }
  if (!field || !op) return std::nullopt;
  FilterSpec spec{*field, *op, {}};
  for (const IndexedValue& item : values) spec.values.push_back(item.value);
  return spec;
}

}  // namespace

std::vector<FilterSpec> read_filters(const ObjectReader& parent, std::string_view key, FilterList list) {
  std::vector<FilterSpec> out;
  const YAML::Node items = parent.sequence(key);
  if (!items.IsDefined()) return out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string path = index_path(parent.path_of(key), i);
    if (!parent.expect(items[i], path, YamlType::mapping)) continue;
    if (auto spec = read_filter(ObjectReader(parent.doc(), items[i], path, kFilter), list)) {
      out.push_back(std::move(*spec));
    }
  }
  return out;
}

}  // namespace kumasim::shipper::detail
