#include "shipper/manifest/reader.h"

#include "yaml/document_starts.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>
#include <sstream>

namespace kumasim::shipper::detail {
namespace {

const std::string kStrTag = "tag:yaml.org,2002:str";

// YAML 1.1 booleans, as the go-yaml v2 reader behind kubectl resolves them.
bool is_yaml11_bool(std::string_view text, bool* value) {
  static constexpr std::array<std::string_view, 11> kTrue = {"y", "Y", "yes", "Yes", "YES", "true",
                                                             "True", "TRUE", "on", "On", "ON"};
  static constexpr std::array<std::string_view, 11> kFalse = {"n", "N", "no", "No", "NO", "false",
                                                              "False", "FALSE", "off", "Off", "OFF"};
  const bool t = std::find(kTrue.begin(), kTrue.end(), text) != kTrue.end();
  const bool f = std::find(kFalse.begin(), kFalse.end(), text) != kFalse.end();
  if (value != nullptr) *value = t;
  return t || f;
}

std::string without_underscores(std::string_view text) {
  std::string out;
  std::copy_if(text.begin(), text.end(), std::back_inserter(out), [](char c) { return c != '_'; });
  return out;
}

bool is_yaml_integer(std::string_view text) {
  static const RE2 kInteger(R"([-+]?(0b[01]+|0o[0-7]+|0x[0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*))");
  return RE2::FullMatch(without_underscores(text), kInteger);
}

bool is_yaml_float(std::string_view text) {
  static const RE2 kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)"
                          R"(|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");
  return RE2::FullMatch(text, kFloat);
}

YamlType resolve_plain(std::string_view text) {
  if (is_yaml11_bool(text, nullptr)) return YamlType::boolean;
  if (is_yaml_integer(text)) return YamlType::integer;
  if (is_yaml_float(text)) return YamlType::floating;
  return YamlType::string;
}

bool is_identifier(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

std::string type_error_message(const YAML::Node& node, YamlType expected) {
  const YamlType actual = yaml_type(node);
  std::string message = "expected " + std::string(describe_type(expected)) + " but found " +
                        std::string(describe_type(actual));
  if (node.IsScalar()) message += " (`" + node.Scalar() + "`)";
  const bool plain_scalar = actual == YamlType::boolean || actual == YamlType::integer || actual == YamlType::floating;
  if (expected == YamlType::string && plain_scalar) message += "; quote the value to make it a string";
  return message + "; " + std::string(kRejected);
}

// go-yaml v2's isMerge: a plain `<<`, or one tagged !!merge.
bool is_merge_key(const YAML::Node& key) {
  return key.IsScalar() && key.Scalar() == "<<" && (key.Tag() == "?" || key.Tag() == "tag:yaml.org,2002:merge");
}

// A set of nodes by identity. yaml-cpp shares an aliased node between its
// uses, and Node::is() is the only identity it offers, so the nodes are
// bucketed by where they start and their type, and compared within a bucket.
// Nothing here assigns a YAML::Node (or erases from a vector of them): a
// Node's assignment writes through to the node it refers to.
class NodeSet {
 public:
  bool contains(const YAML::Node& node) const {
    const auto bucket = buckets_.find(key_of(node));
    return bucket != buckets_.end() &&
           std::any_of(bucket->second.begin(), bucket->second.end(), [&](const YAML::Node& n) { return n.is(node); });
  }
  void insert(const YAML::Node& node) { buckets_[key_of(node)].push_back(node); }

 private:
  static std::pair<int, int> key_of(const YAML::Node& node) {
    return {node.Mark().pos, static_cast<int>(node.Type())};
  }
  std::map<std::pair<int, int>, std::vector<YAML::Node>> buckets_;
};

using Pairs = std::vector<std::pair<YAML::Node, YAML::Node>>;

// The entries of a mapping as a reader sees them: the last of a repeated key.
Pairs effective_pairs(const YAML::Node& map) {
  Pairs all, out;
  std::map<std::string, std::size_t> last;  // key -> index of its last entry
  for (const auto& entry : map) {
    last[entry.first.Scalar()] = all.size();
    all.emplace_back(entry.first, entry.second);
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (last[all[i].first.Scalar()] == i) out.push_back(all[i]);
  }
  return out;
}

// Walks a document once per node (aliases share nodes), resolving the merge
// keys of each mapping after those of the mappings it merges.
class MergeResolver {
 public:
  explicit MergeResolver(Doc& doc) : doc_(&doc) {}
  bool ok() const { return ok_; }

  // Stops at the first error: kubectl reports one and refuses the document.
  void visit(const YAML::Node& node, const std::string& path) {
    if (!ok_ || (!node.IsMap() && !node.IsSequence())) return;
    if (is_open(node)) {
      fail_cycle(node, path);
      return;
    }
    if (done_.contains(node)) return;
    open_.push_back(node);
    if (node.IsMap()) {
      resolve(node, path);
      for (const auto& entry : node) visit(entry.second, join_path(path, entry.first.Scalar()));
    } else {
      for (std::size_t i = 0; i < node.size(); ++i) visit(node[i], index_path(path, i));
    }
    open_.pop_back();
    done_.insert(node);
  }

 private:
  // Whether `node` is being resolved: an ancestor in the walk, or a mapping that merges it.
  bool is_open(const YAML::Node& node) const {
    return std::any_of(open_.begin(), open_.end(), [&](const YAML::Node& n) { return n.is(node); });
  }

  void fail(const YAML::Node& at, const std::string& path, std::string code, std::string message) {
    ok_ = false;
    doc_->error(at, path, std::move(code), std::move(message));
  }

  void fail_cycle(const YAML::Node& at, const std::string& path) {
    fail(at, path, "yaml-alias-cycle",
         "this alias refers to a node that contains it; kubectl refuses the document (\"anchor value contains "
         "itself\")");
  }

  void fail_merge(const YAML::Node& at, const std::string& path, const std::string& how) {
    fail(at, path, "yaml-merge-invalid",
         "a merge key (`<<`) takes a mapping or a list of mappings, not " +
             std::string(describe_type(yaml_type(at))) + how +
             "; kubectl refuses the document (\"map merge requires map or sequence of maps as the value\")");
  }

  // A merge source, resolved first; false (reported) when it contains the mapping being merged into.
  bool enter(const YAML::Node& source, const std::string& path) {
    if (is_open(source)) {
      fail_cycle(source, path);
      return false;
    }
    visit(source, path);
    return ok_;
  }

  // What one `<<` entry sets, each key once: in a list the earlier mappings
  // win. go-yaml v2 takes a list only as written there, not through an alias:
  // an aliased node started before the `<<` key, as anchors precede aliases.
  bool merged_pairs(const YAML::Node& key, const YAML::Node& value, const std::string& path, Pairs& out) {
    if (value.IsMap()) {
      if (!enter(value, path)) return false;
      for (const auto& pair : effective_pairs(value)) out.push_back(pair);
      return true;
    }
    if (!value.IsSequence() || value.Mark().pos < key.Mark().pos) {
      fail_merge(value, path, value.IsSequence() ? " through an alias" : "");
      return false;
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < value.size(); ++i) {
      const YAML::Node item = value[i];
      if (!item.IsMap()) {
        fail_merge(item, index_path(path, i), "");
        return false;
      }
      if (!enter(item, index_path(path, i))) return false;
      for (const auto& pair : effective_pairs(item)) {
        if (seen.insert(pair.first.Scalar()).second) out.push_back(pair);
      }
    }
    return true;
  }

  // The mapping's entries in document order, each setting its key as go-yaml
  // v2 does; the mapping is then rewritten to hold what was set last.
  void resolve(YAML::Node map, const std::string& path) {
    Pairs entries;
    for (const auto& entry : map) entries.emplace_back(entry.first, entry.second);
    if (std::none_of(entries.begin(), entries.end(), [](const auto& e) { return is_merge_key(e.first); })) return;
    struct Winner {
      bool merged = false;
      YAML::Node key, value;
    };
    std::map<std::string, Winner> last;  // replaced by erase and emplace, never assigned
    std::vector<std::string> merged_order;                       // merged keys, first set first
    std::map<std::string, std::vector<YAML::Node>> written_keys;  // the keys written in this mapping
    const auto set = [&](const YAML::Node& key, const YAML::Node& value, bool merged) {
      last.erase(key.Scalar());
      last.emplace(key.Scalar(), Winner{merged, key, value});
    };
    for (const auto& [key, value] : entries) {
      if (!is_merge_key(key)) {
        set(key, value, false);
        written_keys[key.Scalar()].push_back(key);
        continue;
      }
      Pairs pairs;
      if (!merged_pairs(key, value, join_path(path, "<<"), pairs)) return;  // the document is refused anyway
      for (const auto& [merged_key, merged_value] : pairs) {
        const std::string text = merged_key.Scalar();
        if (std::find(merged_order.begin(), merged_order.end(), text) == merged_order.end()) {
          merged_order.push_back(text);
        }
        set(merged_key, merged_value, true);
      }
    }
    for (const auto& [key, value] : entries) {
      if (is_merge_key(key)) map.remove(key);
    }
    for (const std::string& text : merged_order) {
      const Winner& winner = last.at(text);
      if (!winner.merged) continue;  // written after the `<<` that also sets it
      if (const auto written = written_keys.find(text); written != written_keys.end()) {
        doc_->warn(written->second.back(), join_path(path, text), "merge-key-override",
                   "a merge key (`<<`) written after this field sets it too; kubectl reads merges in document "
                   "order (go-yaml v2), so the merged value replaces this one; write `<<` first to keep it");
        for (const YAML::Node& key : written->second) map.remove(key);
      }
      map.force_insert(winner.key, winner.value);
    }
  }

  Doc* doc_;
  std::vector<YAML::Node> open_;  // a stack: only push_back and pop_back
  NodeSet done_;
  bool ok_ = true;
};

}  // namespace

bool resolve_merge_keys(Doc& doc, const YAML::Node& root) {
  MergeResolver resolver(doc);
  resolver.visit(root, "");
  return resolver.ok();
}

std::string_view describe_type(YamlType type) {
  switch (type) {
    case YamlType::absent: return "nothing";
    case YamlType::null: return "null";
    case YamlType::boolean: return "a boolean";
    case YamlType::integer: return "an integer";
    case YamlType::floating: return "a floating-point number";
    case YamlType::string: return "a string";
    case YamlType::mapping: return "a mapping";
    case YamlType::sequence: return "a list";
  }
  return "?";
}

std::vector<YAML::Node> load_documents(const std::string& text) {
  yaml::document_starts(text);  // a dry run: throws where yaml-cpp would loop for ever
  return YAML::LoadAll(text);
}

Location location_of(const YAML::Node& node) {
  if (!node.IsDefined()) return {};
  const YAML::Mark mark = node.Mark();
  if (mark.is_null()) return {};
  return {mark.line + 1, mark.column + 1};
}

void Doc::add(Diagnostic::Severity severity, Location at, std::string path, std::string code, std::string message) {
  out_->push_back(Diagnostic{severity, std::move(code), file_, document_, std::move(path), at.line, at.column,
                             std::move(message)});
}

void Doc::error(Location at, std::string path, std::string code, std::string message) {
  ++errors_;
  add(Diagnostic::Severity::error, at, std::move(path), std::move(code), std::move(message));
}

void Doc::warn(Location at, std::string path, std::string code, std::string message) {
  add(Diagnostic::Severity::warning, at, std::move(path), std::move(code), std::move(message));
}

YamlType yaml_type(const YAML::Node& node) {
  if (!node.IsDefined()) return YamlType::absent;
  if (node.IsNull()) return YamlType::null;
  if (node.IsMap()) return YamlType::mapping;
  if (node.IsSequence()) return YamlType::sequence;
  // "!" marks a quoted or block scalar: always a string.
  if (node.Tag() == "!" || node.Tag() == kStrTag) return YamlType::string;
  return resolve_plain(node.Scalar());
}

std::optional<std::int64_t> yaml_integer(const YAML::Node& node) {
  if (yaml_type(node) != YamlType::integer) return std::nullopt;
  const std::string text = without_underscores(node.Scalar());
  std::string_view digits = text;
  const bool negative = !digits.empty() && digits.front() == '-';
  if (!digits.empty() && (digits.front() == '-' || digits.front() == '+')) digits.remove_prefix(1);
  // go-yaml v2 hands the text to strconv.ParseInt with base 0: 0x, 0b, 0o and a leading 0.
  int base = 10;
  for (const auto& [prefix, prefix_base] : {std::pair{"0x", 16}, std::pair{"0b", 2}, std::pair{"0o", 8}}) {
    if (!digits.starts_with(prefix)) continue;
    base = prefix_base;
    digits.remove_prefix(2);
    break;
  }
  if (base == 10 && digits.size() > 1 && digits.front() == '0') {
    base = 8;
    digits.remove_prefix(1);
  }
  std::uint64_t magnitude = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
  constexpr auto kMax = static_cast<std::uint64_t>(INT64_MAX);
  if (!negative) {
    if (magnitude > kMax) return std::nullopt;
    return static_cast<std::int64_t>(magnitude);
  }
  if (magnitude > kMax + 1) return std::nullopt;
  return magnitude == kMax + 1 ? INT64_MIN : -static_cast<std::int64_t>(magnitude);
}

std::string join_path(std::string_view path, std::string_view key) {
  if (is_identifier(key)) return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
  std::string quoted = std::string(path) + "[\"";
  for (const char c : key) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"]";
}

std::string index_path(std::string_view path, std::size_t index) {
  return std::string(path) + "[" + std::to_string(index) + "]";
}

ObjectReader::ObjectReader(Doc& doc, const YAML::Node& node, std::string path, const Schema& schema)
    : doc_(&doc), node_(node), path_(std::move(path)) {
  check_fields(schema);
}

void ObjectReader::check_fields(const Schema& schema) {
  std::set<std::string> seen;
  for (const auto& entry : node_) {
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) {
      doc_->warn(entry.first, path_of(key), "duplicate-field",
                 "the key appears more than once in this mapping; kubectl keeps the last value");
    }
    if (std::find(schema.fields.begin(), schema.fields.end(), key) != schema.fields.end()) continue;
    const auto special = std::find_if(schema.misplaced.begin(), schema.misplaced.end(),
                                      [&](const Misplaced& m) { return m.key == key; });
    if (special != schema.misplaced.end()) {
      doc_->warn(entry.first, path_of(key), std::string(special->code), std::string(special->message));
      continue;
    }
    doc_->warn(entry.first, path_of(key), "pruned-field",
               "unknown field: DKP's CRD defines no `" + key + "` here, so " + std::string(kPruned));
  }
}

YAML::Node field_of(const YAML::Node& map, std::string_view key) {
  if (!map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  // emplace, not assignment: assigning to a yaml-cpp node rebinds or writes through it.
  std::optional<YAML::Node> found;
  for (const auto& entry : map) {
    if (entry.first.Scalar() == key) found.emplace(entry.second);
  }
  if (!found || found->IsNull()) return YAML::Node(YAML::NodeType::Undefined);
  return *found;
}

Location ObjectReader::key_location(std::string_view key) const {
  Location at = location_of(node_);
  for (const auto& entry : node_) {
    if (entry.first.Scalar() == key) at = location_of(entry.first);
  }
  return at;
}

void ObjectReader::missing(std::string_view key, std::string code, std::string detail) const {
  std::string message = "required field is missing";
  if (!detail.empty()) message += " (" + detail + ")";
  doc_->error(node_, path_of(key), std::move(code), message + "; " + std::string(kRejected));
}

bool ObjectReader::expect(const YAML::Node& node, const std::string& path, YamlType expected) const {
  if (yaml_type(node) == expected) return true;
  doc_->error(node, path, "type", type_error_message(node, expected));
  return false;
}

std::optional<std::string> ObjectReader::string(std::string_view key, Need need) const {
  const YAML::Node value = get(key);
  if (!value.IsDefined()) {
    if (need == Need::required) missing(key);
    return std::nullopt;
  }
  return string_value(*doc_, value, path_of(key));
}

std::optional<bool> ObjectReader::boolean(std::string_view key) const {
  const YAML::Node value = get(key);
  if (!value.IsDefined() || !expect(value, path_of(key), YamlType::boolean)) return std::nullopt;
  bool result = false;
  is_yaml11_bool(value.Scalar(), &result);
  return result;
}

std::optional<std::int64_t> ObjectReader::integer(std::string_view key, Need need) const {
  const YAML::Node value = get(key);
  if (!value.IsDefined()) {
    if (need == Need::required) missing(key);
    return std::nullopt;
  }
  if (!expect(value, path_of(key), YamlType::integer)) return std::nullopt;
  const auto result = yaml_integer(value);
  if (!result) {
    doc_->error(value, path_of(key), "type", "the integer does not fit in 64 bits; " + std::string(kRejected));
  }
  return result;
}

std::optional<std::string> ObjectReader::enumeration(std::string_view key, const std::vector<std::string_view>& allowed,
                                                     Need need) const {
  auto value = string(key, need);
  if (!value || std::find(allowed.begin(), allowed.end(), *value) != allowed.end()) return value;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  std::string message = "`" + *value + "` is not one of " + list + " (the values are case-sensitive)";
  const auto same_letters = std::find_if(allowed.begin(), allowed.end(), [&](std::string_view a) {
    return a.size() == value->size() &&
           std::equal(a.begin(), a.end(), value->begin(), [](char x, char y) { return (x | 0x20) == (y | 0x20); });
  });
  if (same_letters != allowed.end()) message += "; did you mean `" + std::string(*same_letters) + "`?";
  doc_->error(get(key), path_of(key), "enum", message + "; " + std::string(kRejected));
  return std::nullopt;
}

std::optional<ObjectReader> ObjectReader::object(std::string_view key, const Schema& schema, Need need) const {
  const YAML::Node value = get(key);
  if (!value.IsDefined()) {
    if (need == Need::required) missing(key);
    return std::nullopt;
  }
  if (!expect(value, path_of(key), YamlType::mapping)) return std::nullopt;
  return ObjectReader(*doc_, value, path_of(key), schema);
}

YAML::Node ObjectReader::sequence(std::string_view key, Need need) const {
  const YAML::Node value = get(key);
  if (!value.IsDefined()) {
    if (need == Need::required) missing(key);
    return value;
  }
  if (!expect(value, path_of(key), YamlType::sequence)) return YAML::Node(YAML::NodeType::Undefined);
  return value;
}

std::vector<std::pair<std::size_t, std::string>> ObjectReader::strings(std::string_view key, Need need) const {
  std::vector<std::pair<std::size_t, std::string>> out;
  const YAML::Node list = sequence(key, need);
  if (!list.IsDefined()) return out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (auto text = string_value(*doc_, list[i], index_path(path_of(key), i))) out.emplace_back(i, std::move(*text));
  }
  return out;
}

std::optional<std::string> string_value(Doc& doc, const YAML::Node& node, const std::string& path) {
  if (yaml_type(node) == YamlType::string) return node.Scalar();
  doc.error(node, path, "type", type_error_message(node, YamlType::string));
  return std::nullopt;
}

}  // namespace kumasim::shipper::detail
