// Loading manifest files: documents, the envelope of each object, and what
// only the whole input decides (duplicate names, dangling destinationRefs).
// The kinds' specs are read in manifest_destination.cpp and manifest_source.cpp.
#include "shipper/manifest/manifest.h"

#include "shipper/manifest/kinds.h"
#include "shipper/manifest/rules.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace kumasim::shipper {
namespace {

using namespace detail;

const std::string kDestinationKind = "ClusterLogDestination";
const std::string kSourceKind = "ClusterLoggingConfig";
const std::vector<std::string_view> kApiVersions = {"deckhouse.io/v1alpha1", "deckhouse.io/v1alpha2"};

const Schema kTopLevel{{"apiVersion", "kind", "metadata", "spec"}};
// Kubernetes ObjectMeta: the API server keeps these and drops anything else.
const Schema kMetadata{{"name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
                        "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels",
                        "annotations", "ownerReferences", "finalizers", "managedFields"}};

// What every object carries, read before its spec.
struct Envelope {
  std::string kind;
  std::optional<std::string> name;
  Location name_at;
  std::optional<YAML::Node> spec;  // set when a mapping (emplaced: assigning a yaml-cpp node writes through it)
};

// Where an object was defined.
struct Origin {
  std::string file;
  int document = 0;
};

// kind is read first: a document of another kind gets no findings about its fields.
std::optional<std::string> read_kind(Doc& doc, const YAML::Node& root) {
  const YAML::Node node = field_of(root, "kind");
  if (!node.IsDefined()) {
    doc.error(root, "kind", "required", "required field is missing; kubectl refuses the document");
    return std::nullopt;
  }
  auto kind = string_value(doc, node, "kind");
  if (!kind || *kind == kDestinationKind || *kind == kSourceKind) return kind;
  if (*kind == "PodLoggingConfig") {
    doc.error(node, "kind", "unsupported",
              "DKP has PodLoggingConfig, but kumasim-shipper reads only ClusterLogDestination and "
              "ClusterLoggingConfig (File)");
  } else {
    doc.error(node, "kind", "unknown-kind",
              "`" + *kind + "` is not a log-shipper kind (ClusterLogDestination, ClusterLoggingConfig)");
  }
  return std::nullopt;
}

void read_api_version(const ObjectReader& top, const std::string& kind) {
  const auto version = top.string("apiVersion", Need::required);
  if (!version || std::find(kApiVersions.begin(), kApiVersions.end(), *version) != kApiVersions.end()) return;
  top.doc().error(top.get("apiVersion"), "apiVersion", "unknown-api-version",
                  "DKP serves " + kind + " as deckhouse.io/v1alpha1 and deckhouse.io/v1alpha2 only; the API server "
                  "has no `" + *version + "`");
}

void read_name(const ObjectReader& top, Envelope& out) {
  const auto metadata = top.object("metadata", kMetadata, Need::required);
  if (!metadata) return;
  out.name = metadata->string("name", Need::required);
  out.name_at = location_of(metadata->get("name"));
  if (out.name && !is_dns_subdomain(*out.name)) {
    top.doc().error(out.name_at, "metadata.name", "name-invalid",
                    "`" + *out.name + "` is not a DNS subdomain (lowercase letters, digits, `-` and `.`, up to 253 "
                    "characters); " + std::string(kRejected));
  }
}

std::optional<Envelope> read_envelope(Doc& doc, const YAML::Node& root) {
  if (!root.IsMap()) {
    doc.error(root, "", "type",
              "a manifest is a mapping (apiVersion, kind, metadata, spec), not " +
                  std::string(describe_type(yaml_type(root))) + "; kubectl refuses the document");
    return std::nullopt;
  }
  auto kind = read_kind(doc, root);
  if (!kind) return std::nullopt;
  const ObjectReader top(doc, root, "", kTopLevel);
  Envelope out{*kind, std::nullopt, {}, std::nullopt};
  read_api_version(top, *kind);
  read_name(top, out);
  // §15.5: a `spec` indented under metadata leaves the object without one.
  const std::string hint = field_of(field_of(root, "metadata"), "spec").IsDefined()
                               ? "the `spec` indented under metadata is not it"
                               : "";
  const YAML::Node spec = top.get("spec");
  if (!spec.IsDefined()) {
    top.missing("spec", "required", hint);
  } else if (top.expect(spec, "spec", YamlType::mapping)) {
    out.spec.emplace(spec);
  }
  return out;
}

// §5 duplicate-name: a later definition replaces an earlier one in place, as
// `kubectl apply` does. Returns the object's index.
template <class T>
std::size_t keep(std::vector<T>& objects, T object) {
  const auto same = std::find_if(objects.begin(), objects.end(), [&](const T& o) { return o.name == object.name; });
  if (same == objects.end()) {
    objects.push_back(std::move(object));
    return objects.size() - 1;
  }
  *same = std::move(object);
  return static_cast<std::size_t>(same - objects.begin());
}

class Loader {
 public:
  explicit Loader(Manifests& result) : result_(result) {}
  void load_file(const std::string& path);
  void settle_refs();

 private:
  void load_document(Doc& doc, const YAML::Node& root);
  void note_name(Doc& doc, const Envelope& envelope);

  Manifests& result_;
  std::map<std::pair<std::string, std::string>, Origin> seen_;  // (kind, name) -> last definition
  // Parallel to result_.sources: where each was defined and where its refs are written.
  struct SourceBook {
    Origin origin;
    std::vector<RefSite> refs;
  };
  std::vector<SourceBook> books_;
};

std::optional<std::string> read_text(const std::string& path, std::string& error) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    error = "is a directory";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void Loader::load_file(const std::string& path) {
  std::string reason;
  const auto text = read_text(path, reason);
  if (!text) {
    Doc(path, 0, result_.diagnostics).error(Location{}, "", "file-unreadable", "cannot read the file: " + reason);
    return;
  }
  std::vector<YAML::Node> documents;
  try {
    documents = load_documents(*text);
  } catch (const YAML::Exception& e) {
    Doc(path, 0, result_.diagnostics)
        .error(e.mark.is_null() ? Location{} : Location{e.mark.line + 1, e.mark.column + 1}, "", "yaml-syntax",
               "not valid YAML: " + e.msg + "; kubectl refuses the whole file, so nothing in it is read");
    return;
  }
  for (std::size_t i = 0; i < documents.size(); ++i) {
    if (documents[i].IsNull()) continue;  // an empty document between `---` lines
    Doc doc(path, static_cast<int>(i + 1), result_.diagnostics);
    load_document(doc, documents[i]);
  }
}

void Loader::load_document(Doc& doc, const YAML::Node& root) {
  if (!resolve_merge_keys(doc, root)) return;  // kubectl refuses the document: nothing else to say about it
  const auto envelope = read_envelope(doc, root);
  if (!envelope || !envelope->spec) return;
  if (envelope->kind == kDestinationKind) {
    Destination destination = read_destination(doc, *envelope->spec);
    if (!envelope->name) return;
    note_name(doc, *envelope);
    destination.name = *envelope->name;
    if (!doc.has_errors()) keep(result_.destinations, std::move(destination));
    return;
  }
  SourceRead read = read_source(doc, *envelope->spec);
  if (!envelope->name) return;
  note_name(doc, *envelope);
  read.source.name = *envelope->name;
  if (doc.has_errors()) return;
  const std::size_t index = keep(result_.sources, std::move(read.source));
  if (index == books_.size()) books_.emplace_back();
  books_[index] = SourceBook{Origin{doc.file(), doc.document()}, std::move(read.ref_sites)};
}

void Loader::note_name(Doc& doc, const Envelope& envelope) {
  const auto key = std::make_pair(envelope.kind, *envelope.name);
  const auto earlier = seen_.find(key);
  if (earlier != seen_.end()) {
    const std::string where = earlier->second.file + " document " + std::to_string(earlier->second.document);
    doc.warn(envelope.name_at, "metadata.name", "duplicate-name",
             "a " + envelope.kind + " named `" + *envelope.name + "` is also defined in " + where +
                 (doc.has_errors() ? "; this definition has errors, so it replaces nothing"
                                   : "; this later definition replaces it, as kubectl apply would"));
  }
  seen_[key] = Origin{doc.file(), doc.document()};
}

// §5 dangling-destination-ref: a ref to no valid ClusterLogDestination is dropped.
void Loader::settle_refs() {
  std::set<std::string> names;
  for (const auto& d : result_.destinations) names.insert(d.name);
  for (std::size_t i = 0; i < result_.sources.size(); ++i) {
    Source& source = result_.sources[i];
    Doc doc(books_[i].origin.file, books_[i].origin.document, result_.diagnostics);
    std::vector<std::string> kept;
    for (std::size_t j = 0; j < source.destination_refs.size(); ++j) {
      const std::string& ref = source.destination_refs[j];
      if (names.count(ref) > 0) {
        kept.push_back(ref);
        continue;
      }
      const bool rejected = seen_.count({kDestinationKind, ref}) > 0;
      const RefSite& site = books_[i].refs[j];
      doc.warn(site.at, index_path("spec.destinationRefs", site.index), "dangling-destination-ref",
               "no " + std::string(rejected ? "valid " : "") + "ClusterLogDestination named `" + ref +
                   "` in the input" + (rejected ? " (the one given has errors)" : "") +
                   "; DKP skips this destination");
    }
    source.destination_refs = std::move(kept);
  }
}

// Path order with numbers compared by value, so [2] sorts before [10].
bool path_less(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  const auto digits_at = [](std::string_view s, std::size_t k) {
    std::size_t end = k;
    while (end < s.size() && s[end] >= '0' && s[end] <= '9') ++end;
    return s.substr(k, end - k);
  };
  while (i < a.size() && j < b.size()) {
    const std::string_view da = digits_at(a, i), db = digits_at(b, j);
    if (!da.empty() && !db.empty()) {
      if (da.size() != db.size()) return da.size() < db.size();  // no leading zeros in indices
      if (da != db) return da < db;
      i += da.size();
      j += db.size();
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

void sort_diagnostics(std::vector<Diagnostic>& diagnostics, const std::vector<std::string>& files) {
  const auto rank = [&](const std::string& file) {
    return std::find(files.begin(), files.end(), file) - files.begin();
  };
  std::stable_sort(diagnostics.begin(), diagnostics.end(), [&](const Diagnostic& x, const Diagnostic& y) {
    if (x.file != y.file) return rank(x.file) < rank(y.file);
    if (x.document != y.document) return x.document < y.document;
    return path_less(x.path, y.path);
  });
}

}  // namespace

namespace {
constexpr std::array<std::pair<Codec, std::string_view>, 5> kCodecNames = {
    {{Codec::json, "JSON"}, {Codec::text, "Text"}, {Codec::syslog, "Syslog"}, {Codec::cef, "CEF"}, {Codec::gelf, "GELF"}}};
}  // namespace

std::string_view codec_name(Codec codec) {
  for (const auto& [value, name] : kCodecNames)
    if (value == codec) return name;
  return "JSON";
}

std::optional<Codec> codec_named(std::string_view name) {
  for (const auto& [value, spelled] : kCodecNames)
    if (spelled == name) return value;
  return std::nullopt;
}

std::string to_string(const Diagnostic& d) {
  std::string out = d.file + ": ";
  if (d.document > 0) out += "document " + std::to_string(d.document) + ": ";
  if (!d.path.empty()) out += d.path + ": ";
  out += d.severity == Diagnostic::Severity::error ? "error[" : "warning[";
  out += d.code + "]: " + d.message;
  if (d.line > 0) out += " (line " + std::to_string(d.line) + ", column " + std::to_string(d.column) + ")";
  return out;
}

bool Manifests::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic& d) { return d.severity == Diagnostic::Severity::error; });
}

const Destination* Manifests::destination(std::string_view name) const {
  const auto it = std::find_if(destinations.begin(), destinations.end(),
                               [&](const Destination& d) { return d.name == name; });
  return it == destinations.end() ? nullptr : &*it;
}

Manifests load_manifests(const std::vector<std::string>& files) {
  Manifests result;
  Loader loader(result);
  for (const auto& file : files) loader.load_file(file);
  loader.settle_refs();
  sort_diagnostics(result.diagnostics, files);
  return result;
}

}  // namespace kumasim::shipper
