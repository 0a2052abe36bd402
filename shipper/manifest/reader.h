// Internal to the manifest loader: reading one YAML document the way kubectl
// and the API server see it (YAML 1.1 scalar typing, nulls dropped, unknown
// fields pruned), with every finding recorded as a Diagnostic.
#pragma once

#include "shipper/manifest/manifest.h"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kumasim::shipper::detail {

// Message tails: what the API server or DKP does with the finding.
inline constexpr std::string_view kRejected = "the API server rejects the object";
inline constexpr std::string_view kAgentFails =
    "the API server accepts it, but DKP's generated Vector configuration fails to load and the agent never starts";
inline constexpr std::string_view kPruned = "the API server drops it silently";

// YAML::LoadAll, except that input on which yaml-cpp 0.7 would loop forever
// throws YAML::ParserException like any other syntax error.
std::vector<YAML::Node> load_documents(const std::string& text);

struct Location {
  int line = 0, column = 0;  // 1-based; 0 when unknown
};
Location location_of(const YAML::Node& node);

// The findings of one document of one file.
class Doc {
 public:
  Doc(std::string file, int document, std::vector<Diagnostic>& out)
      : file_(std::move(file)), document_(document), out_(&out) {}

  void error(Location at, std::string path, std::string code, std::string message);
  void warn(Location at, std::string path, std::string code, std::string message);
  void error(const YAML::Node& at, std::string path, std::string code, std::string message) {
    error(location_of(at), std::move(path), std::move(code), std::move(message));
  }
  void warn(const YAML::Node& at, std::string path, std::string code, std::string message) {
    warn(location_of(at), std::move(path), std::move(code), std::move(message));
  }
  bool has_errors() const { return errors_ > 0; }
  const std::string& file() const { return file_; }
  int document() const { return document_; }

 private:
  void add(Diagnostic::Severity severity, Location at, std::string path, std::string code, std::string message);
  std::string file_;
  int document_;
  std::vector<Diagnostic>* out_;
  int errors_ = 0;
};

// How kubectl (YAML 1.1, as sigs.k8s.io/yaml reads it) types a node: a plain
// `yes` is a boolean and `1` an integer, while quoted scalars are strings.
enum class YamlType { absent, null, boolean, integer, floating, string, mapping, sequence };
YamlType yaml_type(const YAML::Node& node);
// "a string", "an integer", "null", ...: for messages.
std::string_view describe_type(YamlType type);
// The value of an integer scalar; nullopt beyond 64 bits.
std::optional<std::int64_t> yaml_integer(const YAML::Node& node);

// Appends `.key`, or `["key"]` when the key is not a plain identifier.
std::string join_path(std::string_view path, std::string_view key);
std::string index_path(std::string_view path, std::size_t index);

// Applies the YAML 1.1 merge keys of a document in place (`<<: *base`,
// `<<: [*a, *b]`, `<<: {inline: map}`), as kubectl's reader (go-yaml v2)
// does before anything else sees the object: the `<<` entries go, and the
// merged keys join the mapping with their own nodes, so findings about them
// point where they are written. go-yaml v2 applies the entries in document
// order, so a key written after `<<` wins over the merged one, and a `<<`
// written after a key replaces it (warning merge-key-override); within a list
// the earlier mappings win. Returns false, after an error, when kubectl would
// refuse the document: a merge value that is not a mapping or a list of
// mappings written in place, not through an alias (yaml-merge-invalid), or an
// alias inside its own anchor (yaml-alias-cycle). Only a plain `<<` (or
// `!!merge <<`) merges; a quoted one is an ordinary key.
bool resolve_merge_keys(Doc& doc, const YAML::Node& root);

// The value of `key` in a mapping (the last one when the key repeats), or an
// undefined node when absent or null: the API server drops nulls of
// non-nullable fields.
YAML::Node field_of(const YAML::Node& map, std::string_view key);

// An unknown field with a more specific warning than pruned-field.
struct Misplaced {
  std::string_view key, code, message;
};
// The fields the CRD defines for one object.
struct Schema {
  std::vector<std::string_view> fields;
  std::vector<Misplaced> misplaced = {};
};

enum class Need { optional, required };

// One mapping of the manifest, read against its Schema. Construction reports
// every field the schema lacks (pruned-field or its Misplaced warning) and
// repeated keys; the getters report missing and mistyped values as errors.
class ObjectReader {
 public:
  ObjectReader(Doc& doc, const YAML::Node& node, std::string path, const Schema& schema);

  Doc& doc() const { return *doc_; }
  const std::string& path() const { return path_; }
  std::string path_of(std::string_view key) const { return join_path(path_, key); }
  const YAML::Node& node() const { return node_; }

  // field_of(node(), key).
  YAML::Node get(std::string_view key) const { return field_of(node_, key); }
  bool has(std::string_view key) const { return get(key).IsDefined(); }
  // Where a key is written, for findings about the key itself.
  Location key_location(std::string_view key) const;

  std::optional<std::string> string(std::string_view key, Need need = Need::optional) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::int64_t> integer(std::string_view key, Need need = Need::optional) const;
  // A string from `allowed` (case-sensitive), else an "enum" error.
  std::optional<std::string> enumeration(std::string_view key, const std::vector<std::string_view>& allowed,
                                         Need need = Need::optional) const;
  std::optional<ObjectReader> object(std::string_view key, const Schema& schema, Need need = Need::optional) const;
  // A sequence node, or an undefined node (absent, or a "type" error).
  YAML::Node sequence(std::string_view key, Need need = Need::optional) const;
  // Each item of a list of strings, with its index; mistyped items are errors and skipped.
  std::vector<std::pair<std::size_t, std::string>> strings(std::string_view key, Need need = Need::optional) const;

  // Reports a missing required field.
  void missing(std::string_view key, std::string code = "required", std::string detail = {}) const;
  // Reports `node` at `path` as not of the `expected` type; returns false then.
  bool expect(const YAML::Node& node, const std::string& path, YamlType expected) const;

 private:
  void check_fields(const Schema& schema);
  Doc* doc_;
  YAML::Node node_;
  std::string path_;
};

// A scalar's text when the node is typed as a string, else a "type" error.
std::optional<std::string> string_value(Doc& doc, const YAML::Node& node, const std::string& path);

}  // namespace kumasim::shipper::detail
