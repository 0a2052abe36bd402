// ClusterLoggingConfig of type File (dkp-log-shipper.md §4).
#include "shipper/manifest/kinds.h"

#include <map>

namespace kumasim::shipper::detail {
namespace {

const Schema kSpec{{"type", "file", "kubernetesPods", "destinationRefs", "labelFilter", "logFilter",
                    "multilineParser", "transformations"}};
const Schema kFile{{"include", "exclude", "lineDelimiter"}};
// `custom` only matters to a parser kumasim refuses anyway, so its content is not read.
const Schema kMultiline{{"type", "custom"}};

std::vector<std::string> values_of(std::vector<std::pair<std::size_t, std::string>> items) {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (auto& item : items) out.push_back(std::move(item.second));
  return out;
}

// The CRD's oneOf: File needs `file`, and `file` with `kubernetesPods` is refused.
void read_file(const ObjectReader& spec, Source& out) {
  if (spec.has("kubernetesPods")) {
    spec.doc().error(spec.key_location("kubernetesPods"), spec.path_of("kubernetesPods"), "one-of",
                     "file and kubernetesPods exclude each other; " + std::string(kRejected));
  }
  const auto file = spec.object("file", kFile);
  if (!file) {
    if (!spec.has("file")) spec.missing("file", "one-of", "type File needs the `file` object");
    return;
  }
  out.include = values_of(file->strings("include"));
  out.exclude = values_of(file->strings("exclude"));
  auto delimiter = file->string("lineDelimiter");
  if (!delimiter) return;
  if (delimiter->empty()) {
    file->doc().error(file->get("lineDelimiter"), file->path_of("lineDelimiter"), "min-length",
                      "lineDelimiter must not be empty: Vector's file source cannot cut lines at an empty "
                      "delimiter and refuses it; " + std::string(kAgentFails));
    return;
  }
  out.line_delimiter = std::move(*delimiter);
}

void read_multiline(const ObjectReader& spec) {
  const auto parser = spec.object("multilineParser", kMultiline);
  if (!parser) return;
  const auto type = parser->enumeration(
      "type", {"None", "General", "Backslash", "LogWithTime", "MultilineJSON", "Custom"}, Need::required);
  if (!type || *type == "None") return;
  spec.doc().error(parser->get("type"), parser->path_of("type"), "unsupported",
                   "DKP supports the " + *type + " multiline parser, but kumasim-shipper reads one event per line "
                   "and implements only None");
}

// §4: every ref in order; a repeat is warned about and dropped, as DKP
// builds one Vector sink per destination name and feeds it each event once.
std::vector<RefSite> read_refs(const ObjectReader& spec, Source& out) {
  std::vector<RefSite> sites;
  const YAML::Node list = spec.get("destinationRefs");
  const auto refs = spec.strings("destinationRefs", Need::required);
  if (list.IsDefined() && list.IsSequence() && list.size() == 0) {
    spec.doc().error(list, spec.path_of("destinationRefs"), "min-items",
                     "destinationRefs needs at least one ClusterLogDestination name; " + std::string(kRejected));
  }
  std::map<std::string, std::size_t> first;  // name -> index of its first entry
  for (const auto& [index, name] : refs) {
    const auto [earlier, fresh] = first.emplace(name, index);
    if (!fresh) {
      spec.doc().warn(list[index], index_path(spec.path_of("destinationRefs"), index), "duplicate-destination-ref",
                      "`" + name + "` is already listed at " +
                          index_path(spec.path_of("destinationRefs"), earlier->second) +
                          "; DKP builds one Vector sink per destination and sends it each event once, so this "
                          "entry is ignored");
      continue;
    }
    out.destination_refs.push_back(name);
    sites.push_back(RefSite{index, location_of(list[index])});
  }
  return sites;
}

}  // namespace

SourceRead read_source(Doc& doc, const YAML::Node& node) {
  const ObjectReader spec(doc, node, "spec", kSpec);
  SourceRead out;
  const auto type = spec.enumeration("type", {"File", "KubernetesPods"}, Need::required);
  if (type == "KubernetesPods") {
    doc.error(spec.get("type"), spec.path_of("type"), "unsupported",
              "DKP supports KubernetesPods sources, but kumasim-shipper implements only File");
    return out;
  }
  if (spec.has("transformations")) {
    doc.error(spec.key_location("transformations"), spec.path_of("transformations"), "unsupported",
              "transformations change the event in ways kumasim-shipper does not reproduce");
  }
  if (type) read_file(spec, out.source);
  out.ref_sites = read_refs(spec, out.source);
  out.source.label_filter = read_filters(spec, "labelFilter", FilterList::label_filter);
  out.source.log_filter = read_filters(spec, "logFilter", FilterList::log_filter);
  read_multiline(spec);
  return out;
}

}  // namespace kumasim::shipper::detail
