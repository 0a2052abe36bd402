// The ClusterLogDestination fields every type shares: extraLabels, rateLimit
// and buffer (dkp-log-shipper.md §3.6, §8, §9), and the CEF extension keys the
// labels become (§10.3).
#include "formats/cef.h"
#include "shipper/pipeline/extra_labels.h"
#include "shipper/manifest/kinds.h"
#include "shipper/manifest/rules.h"

#include <algorithm>

namespace kumasim::shipper::detail {
namespace {

const Schema kRateLimit{{"linesPerMinute", "keyField", "excludes"}};
const Schema kBuffer{{"type", "memory", "disk", "whenFull"}};
const Schema kMemory{{"maxEvents"}};
const Schema kDisk{{"maxSize"}};

constexpr std::int64_t kDiskMinimum = 268435488;

bool check_label_key(Doc& doc, const YAML::Node& at, const std::string& path, const std::string& key) {
  if (is_forbidden_label_key(key)) {
    doc.error(at, path, "extralabel-key-forbidden",
              "`" + key + "` is reserved for the Kubernetes metadata DKP adds to pod logs; " + std::string(kRejected));
    return false;
  }
  if (!is_valid_label_key(key)) {
    doc.error(at, path, "extralabel-key-invalid",
              "a label key may hold only letters, digits, `_`, `.` and `-`; DKP writes the key unquoted into a "
              "VRL path, which this key would break, so kumasim refuses it");
    return false;
  }
  return true;
}

// A template the CRD pattern accepts can still be a path DKP's generator
// cannot turn into VRL (`{{ a[b }}`, `{{ -ab }}`): the pipeline's own compile decides.
bool check_template_path(Doc& doc, const YAML::Node& at, const std::string& path, const std::string& key,
                         const std::string& value) {
  auto compiled = ExtraLabels::compile({{key, value}});
  const auto* error = std::get_if<ExtraLabels::Error>(&compiled);
  if (!error) return true;
  doc.error(at, path, error->code, "`" + value + "`: " + error->message + "; " + std::string(kAgentFails));
  return false;
}

bool check_label_value(Doc& doc, const YAML::Node& at, const std::string& path, const std::string& key,
                       const std::string& value) {
  if (matches(kStaticLabelPattern, value)) return true;
  if (matches(kTemplateLabelPattern, value)) return check_template_path(doc, at, path, key, value);
  const std::string rule =
      value.starts_with("{{")
          ? "a template must be `{{ path }}`: one space after `{{` and before `}}`, and a path of 2+ characters "
            "(letters, digits, `\\`, `-`, then also `[`, `]`, `_`, `.`)"
          : "a static value may hold only letters, digits, `_` and `-` (a template is written `{{ path }}`)";
  doc.error(at, path, "extralabel-value-invalid", "`" + value + "`: " + rule + "; " + std::string(kRejected));
  return false;
}

void read_memory(const ObjectReader& buffer, BufferSpec& out) {
  const auto memory = buffer.object("memory", kMemory);
  if (!memory) return;
  const auto events = memory->integer("maxEvents");
  if (!events) return;
  if (*events < 1) {
    memory->doc().error(memory->get("maxEvents"), memory->path_of("maxEvents"), "minimum",
                        "maxEvents must be at least 1 (Vector's memory buffer cannot hold 0 events); " +
                            std::string(kAgentFails));
    return;
  }
  out.max_events = static_cast<std::uint64_t>(*events);
}

// disk.maxSize: an integer or a quantity string, at least 268435488 bytes.
std::optional<std::int64_t> read_max_size(const ObjectReader& disk) {
  const YAML::Node node = disk.get("maxSize");
  const std::string path = disk.path_of("maxSize");
  if (yaml_type(node) == YamlType::integer) return disk.integer("maxSize");
  if (yaml_type(node) != YamlType::string) {
    disk.doc().error(node, path, "type",
                     "expected an integer or a quantity string such as `512Mi`, found " +
                         std::string(describe_type(yaml_type(node))) + "; " + std::string(kRejected));
    return std::nullopt;
  }
  auto parsed = parse_quantity(node.Scalar());
  if (auto* reason = std::get_if<std::string>(&parsed)) {
    disk.doc().error(node, path, "quantity",
                     "`" + node.Scalar() + "` is not a Kubernetes quantity: " + *reason + "; " +
                         std::string(kRejected));
    return std::nullopt;
  }
  return std::get<std::int64_t>(parsed);
}

void read_disk(const ObjectReader& buffer, BufferSpec& out) {
  const auto disk = buffer.object("disk", kDisk);
  if (!disk || !disk->has("maxSize")) {
    buffer.doc().error(buffer.node(), buffer.path() + ".disk.maxSize", "required",
                       "a Disk buffer needs disk.maxSize: Vector's disk buffer has no default size, so the agent "
                       "never starts");
    return;
  }
  const auto size = read_max_size(*disk);
  if (!size) return;
  if (*size < kDiskMinimum) {
    disk->doc().error(disk->get("maxSize"), disk->path_of("maxSize"), "disk-max-size-minimum",
                      std::to_string(*size) + " bytes is below the minimum of " + std::to_string(kDiskMinimum) +
                          " bytes (256 MiB + 32 B); " + std::string(kRejected));
    return;
  }
  out.max_size = static_cast<std::uint64_t>(*size);
}

void warn_other_buffer(const ObjectReader& buffer, std::string_view key, std::string_view type) {
  if (!buffer.has(key)) return;
  buffer.doc().warn(buffer.key_location(key), buffer.path_of(key), "ignored-sub-object",
                    "settings for another buffer type; DKP ignores them for a " + std::string(type) + " buffer");
}

bool only_letters(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// The profiles (gen-b, gen-c) whose own extension `extension` a label `key` replaces.
std::string replaced_fixed_extension(const std::string& extension, const std::string& key, std::string* source) {
  std::string profiles;
  for (const std::string_view profile : {"gen-b", "gen-c"}) {
    for (const auto& [fixed, path] : formats::cef::config_for_profile(profile, {}).extensions) {
      if (fixed != extension || path == key) continue;
      profiles += (profiles.empty() ? "" : " and ") + std::string(profile);
      *source = path;
    }
  }
  return profiles;
}

void check_extension_key(Doc& doc, const std::string& path, Location at, const std::string& key,
                         const std::string& extension) {
  if (!only_letters(extension)) {
    const std::string becomes = extension.empty() ? "an empty extension key (it has no ASCII letters or digits)"
                                                  : "the extension key `" + extension + "`";
    doc.error(at, path, "cef-extension-key-invalid",
              "with codec CEF this label becomes " + becomes +
                  ", but Vector accepts only ASCII letters in extension keys; " + std::string(kAgentFails));
    return;
  }
  std::string source;
  const std::string profiles = replaced_fixed_extension(extension, key, &source);
  if (profiles.empty()) return;
  doc.warn(at, path, "cef-extension-key-collision",
           "with codec CEF this label becomes the extension key `" + extension + "`, which replaces DKP's own `" +
               extension + "` (from `" + source + "`) in " + profiles + "; the label's value is sent instead");
}

}  // namespace

LabelsRead read_extra_labels(const ObjectReader& spec) {
  LabelsRead out;
  const YAML::Node map = spec.get("extraLabels");
  const std::string base = spec.path_of("extraLabels");
  if (!map.IsDefined() || !spec.expect(map, base, YamlType::mapping)) return out;
  for (const auto& entry : map) {
    // sigs.k8s.io/yaml turns scalar keys into JSON strings, but not a mapping, a list or null.
    const YamlType key_type = yaml_type(entry.first);
    if (key_type == YamlType::mapping || key_type == YamlType::sequence || key_type == YamlType::null) {
      spec.doc().error(entry.first, base, "type",
                       "a label key must be a string, not " + std::string(describe_type(key_type)) +
                           "; kubectl cannot turn such a key into JSON and refuses the document");
      continue;
    }
    const std::string key = entry.first.Scalar();
    const std::string path = join_path(base, key);
    out.where[key] = location_of(entry.first);
    const bool key_ok = check_label_key(spec.doc(), entry.first, path, key);
    const auto value = string_value(spec.doc(), entry.second, path);
    if (!value || !check_label_value(spec.doc(), entry.second, path, key, *value) || !key_ok) continue;
    out.labels[key] = *value;  // a repeated key: the last wins, as kubectl reads it
  }
  return out;
}

std::optional<RateLimitSpec> read_rate_limit(const ObjectReader& spec) {
  const auto limit = spec.object("rateLimit", kRateLimit);
  if (!limit) return std::nullopt;
  RateLimitSpec out;
  const auto lines = limit->integer("linesPerMinute", Need::required);
  if (lines && *lines <= 0) {
    limit->doc().error(limit->get("linesPerMinute"), limit->path_of("linesPerMinute"), "rate-limit-zero",
                       "linesPerMinute must be above 0 (Vector's throttle needs a positive threshold); " +
                           std::string(kAgentFails));
  }
  out.lines_per_minute = lines.value_or(0);
  out.key_field = limit->string("keyField");
  out.excludes = read_filters(*limit, "excludes", FilterList::excludes);
  return out;
}

BufferSpec read_buffer(const ObjectReader& spec) {
  BufferSpec out;
  const auto buffer = spec.object("buffer", kBuffer);
  if (!buffer) return out;
  const auto type = buffer->enumeration("type", {"Memory", "Disk"}, Need::required);
  if (buffer->enumeration("whenFull", {"Block", "DropNewest"}) == "DropNewest") {
    out.when_full = BufferSpec::WhenFull::drop_newest;
  }
  if (type == "Disk") {
    out.type = BufferSpec::Type::disk;
    read_disk(*buffer, out);
    warn_other_buffer(*buffer, "memory", "Disk");
  } else if (type == "Memory") {
    read_memory(*buffer, out);
    warn_other_buffer(*buffer, "disk", "Memory");
  }
  return out;
}

void check_cef_extension_keys(const ObjectReader& spec, const LabelsRead& labels) {
  const std::string base = spec.path_of("extraLabels");
  std::map<std::string, std::vector<std::string>> by_extension;  // keys in byte order, as DKP processes them
  for (const auto& [key, at] : labels.where) {
    const std::string extension = formats::cef::normalize_key(key);
    check_extension_key(spec.doc(), join_path(base, key), at, key, extension);
    if (only_letters(extension)) by_extension[extension].push_back(key);
  }
  for (const auto& [extension, keys] : by_extension) {
    for (std::size_t i = 0; i + 1 < keys.size(); ++i) {
      spec.doc().warn(labels.where.at(keys[i]), join_path(base, keys[i]), "cef-extension-key-collision",
                      "with codec CEF `" + keys[i] + "` and `" + keys.back() + "` both become the extension key `" +
                          extension + "`; only `" + keys.back() + "` (the last in byte order) is sent");
    }
  }
}

}  // namespace kumasim::shipper::detail
