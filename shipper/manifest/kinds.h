// Internal to the manifest loader: the `spec` of each kind, read and checked
// against DKP's CRDs and the Vector configuration DKP generates from it.
#pragma once

#include "shipper/pipeline/field_path.h"
#include "shipper/manifest/manifest.h"
#include "shipper/manifest/reader.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kumasim::shipper::detail {

// ClusterLogDestination `spec` (§3). The caller sets the name and drops the
// result when the document has errors.
Destination read_destination(Doc& doc, const YAML::Node& spec);

// The destination fields shared by every type (§3.6), read from `spec`.
struct LabelsRead {
  std::map<std::string, std::string> labels;  // the entries that passed validation
  std::map<std::string, Location> where;      // every key read, for later findings
};
LabelsRead read_extra_labels(const ObjectReader& spec);
std::optional<RateLimitSpec> read_rate_limit(const ObjectReader& spec);
BufferSpec read_buffer(const ObjectReader& spec);
// With codec CEF every label becomes an extension key (§10.3): Vector refuses
// keys that are not all letters, and keys that collide lose silently.
void check_cef_extension_keys(const ObjectReader& spec, const LabelsRead& labels);

// ClusterLoggingConfig `spec` (§4), with where each destinationRefs entry is
// written, for the dangling-ref warnings decided once every file is read.
struct RefSite {
  std::size_t index = 0;  // in the list as written, which keeps repeats that destination_refs drops
  Location at;
};
struct SourceRead {
  Source source;
  std::vector<RefSite> ref_sites;  // parallel to source.destination_refs
};
SourceRead read_source(Doc& doc, const YAML::Node& spec);

// A labelFilter, logFilter or rateLimit.excludes list (§7) under `parent`.
// The list decides the base of the paths (parsed_data for logFilter, the
// event root otherwise) and whether an empty field is refused (labelFilter).
enum class FilterList { label_filter, log_filter, excludes };
std::vector<FilterSpec> read_filters(const ObjectReader& parent, std::string_view key, FilterList list);

}  // namespace kumasim::shipper::detail
