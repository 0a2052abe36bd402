#include "simulator/scenario/scenario_file.h"

#include "simulator/expect.h"
#include "simulator/scenario/template.h"
#include "yaml/document_starts.h"

#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

namespace kumasim::scenario {
namespace {

namespace fs = std::filesystem;
using formats::Transport;

// The first error, already formatted as one line.
struct Fail {
  std::string message;
};

// ---------------------------------------------------------------- YAML ----

// How YAML 1.2's core schema types a scalar: plain `true`/`false` are
// booleans, plain numbers numbers, plain `null`/`~`/empty null; anything
// quoted (or a block scalar) is a string. `yes`, `on`, `y` are strings.
enum class Kind { null, boolean, integer, floating, string };

bool all_of(std::string_view text, bool (*pred)(char)) {
  return !text.empty() && std::all_of(text.begin(), text.end(), pred);
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_octal(char c) { return c >= '0' && c <= '7'; }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool is_core_integer(std::string_view t) {
  if (t.size() > 2 && (t.substr(0, 2) == "0o")) return all_of(t.substr(2), is_octal);
  if (t.size() > 2 && (t.substr(0, 2) == "0x")) return all_of(t.substr(2), is_hex);
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.remove_prefix(1);
  return all_of(t, is_digit);
}

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?, .inf, .nan
bool is_core_float(std::string_view t) {
  std::string_view s = t;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s == ".inf" || s == ".Inf" || s == ".INF") return true;
  if (t == ".nan" || t == ".NaN" || t == ".NAN") return true;
  std::size_t i = 0, digits = 0;
  while (i < s.size() && is_digit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t fraction = 0;
    while (i < s.size() && is_digit(s[i])) ++i, ++fraction;
    if (digits == 0 && fraction == 0) return false;
  } else if (digits == 0) {
    return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    if (!all_of(s.substr(i), is_digit)) return false;
    i = s.size();
  }
  return i == s.size();
}

bool is_core_null(std::string_view t) { return t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL"; }
bool is_core_bool(std::string_view t) {
  return t == "true" || t == "True" || t == "TRUE" || t == "false" || t == "False" || t == "FALSE";
}

const std::string kTagPrefix = "tag:yaml.org,2002:";

// nullopt: a tag outside the core schema.
std::optional<Kind> kind_of(const YAML::Node& node) {
  if (node.IsNull()) return Kind::null;
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == "!" || tag == kTagPrefix + "str") return Kind::string;
  if (tag == kTagPrefix + "int") return Kind::integer;
  if (tag == kTagPrefix + "float") return Kind::floating;
  if (tag == kTagPrefix + "bool") return Kind::boolean;
  if (tag == kTagPrefix + "null") return Kind::null;
  if (tag != "?" && !tag.empty()) return std::nullopt;
  if (is_core_null(text)) return Kind::null;
  if (is_core_bool(text)) return Kind::boolean;
  if (is_core_integer(text)) return Kind::integer;
  if (is_core_float(text)) return Kind::floating;
  return Kind::string;
}

std::string_view describe(Kind kind) {
  switch (kind) {
    case Kind::null: return "null";
    case Kind::boolean: return "a boolean";
    case Kind::integer: return "an integer";
    case Kind::floating: return "a number";
    case Kind::string: return "a string";
  }
  return "?";
}

std::string describe(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  const auto kind = kind_of(node);
  if (!kind) return "a value tagged " + node.Tag();
  if (*kind == Kind::null) return "null";
  std::string text = node.Scalar();
  if (text.size() > 60) text = text.substr(0, 60) + "...";
  return std::string(describe(*kind)) + " \"" + text + "\"";
}

// A core integer's value: nullopt when it does not fit 64 bits.
struct Integer {
  bool negative = false;
  std::uint64_t magnitude = 0;
};
std::optional<Integer> integer_value(std::string_view t) {
  Integer out;
  int base = 10;
  if (t.substr(0, 2) == "0o") base = 8, t.remove_prefix(2);
  else if (t.substr(0, 2) == "0x") base = 16, t.remove_prefix(2);
  else if (!t.empty() && (t[0] == '-' || t[0] == '+')) out.negative = t[0] == '-', t.remove_prefix(1);
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out.magnitude, base);
  if (ec != std::errc() || end != t.data() + t.size()) return std::nullopt;
  if (out.magnitude == 0) out.negative = false;
  return out;
}

std::optional<double> float_value(std::string_view t) {
  if (!t.empty() && t[0] == '+') t.remove_prefix(1);
  double value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || end != t.data() + t.size() || !std::isfinite(value)) return std::nullopt;
  return value;
}

bool is_identifier(std::string_view key) {
  return all_of(key, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
  });
}

std::string join(const std::string& path, std::string_view key) {
  if (is_identifier(key)) return path.empty() ? std::string(key) : path + "." + std::string(key);
  return path + "[\"" + std::string(key) + "\"]";
}
std::string at(const std::string& path, std::size_t index) { return path + "[" + std::to_string(index) + "]"; }

std::string list(const std::vector<std::string>& names, const std::string& none = "none") {
  if (names.empty()) return none;
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// ------------------------------------------------------------ durations ----

std::optional<std::uint64_t> parse_size(std::string_view text) {
  static const std::vector<std::pair<std::string_view, std::uint64_t>> kUnits{
      {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}, {"KB", 1000},
      {"MB", 1000000},     {"GB", 1000000000},  {"B", 1}};
  std::uint64_t unit = 1;
  for (const auto& [suffix, factor] : kUnits) {
    if (text.size() > suffix.size() && text.substr(text.size() - suffix.size()) == suffix) {
      text.remove_suffix(suffix.size());
      unit = factor;
      break;
    }
  }
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  std::uint64_t value = 0;
  if (!all_of(text, is_digit)) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value > std::numeric_limits<std::uint64_t>::max() / unit) return std::nullopt;
  return value * unit;
}

const char* const kDurationRule = "an integer of milliseconds, or a number with ms, s, m or h: \"500ms\", \"2s\", \"1m\"";
const char* const kSizeRule = "an integer of bytes, or one with B, KiB, MiB, GiB, KB, MB or GB: \"64KiB\"";

// ------------------------------------------------------------- actions ----

using Action = FaultSpec::Action;

// ---------------------------------------------------------------- loader ----

class Loader;

// One mapping of the file: every key must be one of `allowed`, none twice.
// A key whose value is null counts as absent.
class Fields {
 public:
  Fields(Loader& loader, const YAML::Node& node, std::string path, std::vector<std::string> allowed);

  std::optional<YAML::Node> get(const std::string& key) const {
    const auto it = values_.find(key);
    if (it == values_.end() || it->second.IsNull()) return std::nullopt;
    return it->second;
  }
  bool has(const std::string& key) const { return get(key).has_value(); }
  // The key node, for errors about the key itself.
  YAML::Node key_node(const std::string& key) const { return keys_.at(key); }
  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  std::string path(std::string_view key) const { return join(path_, key); }

 private:
  YAML::Node node_;
  std::string path_;
  std::map<std::string, YAML::Node> values_, keys_;
};

class Loader {
 public:
  Loader(std::string file, const std::string& text) : file_(std::move(file)), text_(text) {
    std::error_code ec;
    auto absolute = fs::absolute(file_, ec);
    dir_ = (ec ? fs::path(file_) : absolute).parent_path();
  }

  Scenario load();

  [[noreturn]] void fail(const YAML::Node& node, const std::string& path, const std::string& what) const {
    YAML::Mark mark;
    if (node.IsDefined()) mark = node.Mark();
    std::string out = file_;
    if (!mark.is_null()) out += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
    out += ": ";
    if (!path.empty()) out += path + ": ";
    throw Fail{out + what};
  }

  // ---- scalars
  std::string text(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar()) fail(node, path, "expected a string, got " + describe(node));
    return node.Scalar();
  }
  std::string nonempty_text(const YAML::Node& node, const std::string& path) const {
    auto out = text(node, path);
    if (out.empty()) fail(node, path, "is empty");
    return out;
  }
  bool boolean(const YAML::Node& node, const std::string& path) const {
    if (!node.IsScalar() || kind_of(node) != Kind::boolean || !is_core_bool(node.Scalar())) {
      fail(node, path, "expected true or false, got " + describe(node) + " (YAML 1.2: yes/no/on/off are strings)");
    }
    const auto& t = node.Scalar();
    return t == "true" || t == "True" || t == "TRUE";
  }
  std::uint64_t count(const YAML::Node& node, const std::string& path, std::uint64_t min) const {
    const std::string rule = min == 0 ? "a non-negative integer" : "an integer >= " + std::to_string(min);
    if (!node.IsScalar() || kind_of(node) != Kind::integer) fail(node, path, "expected " + rule + ", got " + describe(node));
    const auto value = integer_value(node.Scalar());
    if (!value) fail(node, path, "\"" + node.Scalar() + "\" does not fit 64 bits");
    if (value->negative || value->magnitude < min) fail(node, path, node.Scalar() + " is not " + rule);
    return value->magnitude;
  }
  double number(const YAML::Node& node, const std::string& path) const {
    const auto kind = node.IsScalar() ? kind_of(node) : std::nullopt;
    if (kind != Kind::integer && kind != Kind::floating) fail(node, path, "expected a number, got " + describe(node));
    if (*kind == Kind::integer) {
      const auto value = integer_value(node.Scalar());
      if (!value) fail(node, path, "\"" + node.Scalar() + "\" does not fit 64 bits");
      const double magnitude = static_cast<double>(value->magnitude);
      return value->negative ? -magnitude : magnitude;
    }
    const auto value = float_value(node.Scalar());
    if (!value) fail(node, path, "\"" + node.Scalar() + "\" is not a finite number");
    return *value;
  }
  double positive(const YAML::Node& node, const std::string& path) const {
    const double value = number(node, path);
    if (!(value > 0)) fail(node, path, node.Scalar() + " is not > 0");
    return value;
  }
  Duration duration(const YAML::Node& node, const std::string& path, bool allow_zero) const {
    std::optional<Duration> value;
    if (node.IsScalar() && kind_of(node) != Kind::null) value = parse_duration(node.Scalar());
    if (!value) fail(node, path, "expected a duration, got " + describe(node) + " (" + kDurationRule + ")");
    if (!allow_zero && value->count() == 0) fail(node, path, "must be longer than 0");
    return *value;
  }
  std::uint64_t size(const YAML::Node& node, const std::string& path, std::uint64_t min) const {
    std::optional<std::uint64_t> value;
    if (node.IsScalar() && kind_of(node) != Kind::null) value = parse_size(node.Scalar());
    if (!value) fail(node, path, "expected a size, got " + describe(node) + " (" + kSizeRule + ")");
    if (*value < min) fail(node, path, node.Scalar() + " is not >= " + std::to_string(min));
    return *value;
  }
  // A list of strings; a single string is not a list.
  std::vector<std::string> strings(const YAML::Node& node, const std::string& path) const {
    if (!node.IsSequence()) fail(node, path, "expected a list of strings, got " + describe(node));
    std::vector<std::string> out;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node item = node[i];
      if (!item.IsScalar() || kind_of(item) == Kind::null) {
        fail(item, at(path, i), "expected a string, got " + describe(item));
      }
      out.push_back(item.Scalar());
    }
    return out;
  }
  // A list, or a single map standing for a list of one.
  std::vector<std::pair<YAML::Node, std::string>> items(const YAML::Node& node, const std::string& path,
                                                         bool single_map) const {
    std::vector<std::pair<YAML::Node, std::string>> out;
    if (single_map && node.IsMap()) {
      out.emplace_back(node, path);
    } else if (node.IsSequence()) {
      for (std::size_t i = 0; i < node.size(); ++i) out.emplace_back(node[i], at(path, i));
    } else {
      fail(node, path, std::string("expected a list") + (single_map ? " (or a single map)" : "") + ", got " +
                           describe(node));
    }
    return out;
  }

  // YAML to JSON, as YAML 1.2's core schema types scalars.
  nlohmann::json to_json(const YAML::Node& node, const std::string& path, int depth = 0) {
    if (depth > 64) fail(node, path, "nested deeper than 64 levels");
    if (++json_nodes_ > 1000000) fail(node, path, "more than 1000000 values (aliases expanding?)");
    if (node.IsSequence()) {
      auto out = nlohmann::json::array();
      for (std::size_t i = 0; i < node.size(); ++i) out.push_back(to_json(node[i], at(path, i), depth + 1));
      return out;
    }
    if (node.IsMap()) {
      auto out = nlohmann::json::object();
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) fail(entry.first, path, "a key must be a string, got " + describe(entry.first));
        const std::string key = entry.first.Scalar();
        if (out.contains(key)) fail(entry.first, join(path, key), "repeated key");
        out[key] = to_json(entry.second, join(path, key), depth + 1);
      }
      return out;
    }
    const auto kind = kind_of(node);
    if (!kind) fail(node, path, "tag " + node.Tag() + " is not one of YAML's core schema (!!str, !!int, !!float, !!bool, !!null)");
    switch (*kind) {
      case Kind::null: return nullptr;
      case Kind::boolean: {
        const auto& t = node.Scalar();
        if (!is_core_bool(t)) fail(node, path, "\"" + t + "\" is not true or false");
        return t == "true" || t == "True" || t == "TRUE";
      }
      case Kind::integer: {
        const auto value = is_core_integer(node.Scalar()) ? integer_value(node.Scalar()) : std::nullopt;
        if (!value) fail(node, path, "\"" + node.Scalar() + "\" is not a 64-bit integer");
        if (!value->negative) {
          if (value->magnitude <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return static_cast<std::int64_t>(value->magnitude);
          }
          return value->magnitude;
        }
        if (value->magnitude > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1) {
          fail(node, path, "\"" + node.Scalar() + "\" is below the smallest 64-bit integer");
        }
        return static_cast<std::int64_t>(0 - value->magnitude);
      }
      case Kind::floating: {
        const auto value = float_value(node.Scalar());
        if (!value) fail(node, path, "\"" + node.Scalar() + "\" is not a finite number (JSON has no inf or nan)");
        return *value;
      }
      case Kind::string: return node.Scalar();
    }
    return nullptr;
  }

  // ---- files
  std::string existing_file(const YAML::Node& node, const std::string& path, const std::string& written) const {
    if (written.empty()) fail(node, path, "is empty: give a file");
    fs::path resolved = fs::path(written).is_absolute() ? fs::path(written) : dir_ / written;
    resolved = resolved.lexically_normal();
    std::error_code ec;
    const auto status = fs::status(resolved, ec);
    const std::string shown =
        "\"" + written + "\"" + (resolved.string() == written ? "" : " (" + resolved.string() + ")");
    if (ec || !fs::exists(status)) {
      fail(node, path, "no such file " + shown + " (relative paths are resolved against the scenario's folder)");
    }
    if (!fs::is_regular_file(status)) fail(node, path, shown + " is not a regular file");
    return resolved.string();
  }
  std::string read_file(const YAML::Node& node, const std::string& path, const std::string& file) const {
    std::ifstream in(file, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    if (!in && !in.eof()) fail(node, path, "cannot read \"" + file + "\"");
    return out.str();
  }

 private:
  friend class Fields;
  void read_listeners(const Fields& top);
  ListenerSpec read_listener_url(const std::string& name, const YAML::Node& node, const std::string& path, int index);
  ListenerSpec read_listener_map(const std::string& name, const YAML::Node& node, const std::string& path, int index);
  void finish_listener(ListenerSpec& spec, const YAML::Node& node, const std::string& path,
                       const YAML::Node& address_node, const std::string& address_path);
  void read_shipper(const Fields& top);
  ManifestSpec read_manifest(const YAML::Node& node, const std::string& path);
  void read_input(const Fields& top);
  void read_faults(const Fields& top);
  void read_expect(const Fields& top);
  nlohmann::json read_matchers(const YAML::Node& node, const std::string& path);
  std::string content_path(const YAML::Node& node, const std::string& path);
  std::vector<std::pair<std::string, nlohmann::json>> read_value_checks(const YAML::Node& node, const std::string& path,
                                                                        const std::string& into);

  // Placeholders of `text`, which `node` at `path` holds (`file`: which file,
  // for line numbers): the syntax, and names that refer to the scenario.
  void check_placeholders(const std::string& text, const YAML::Node& node, const std::string& path,
                          const std::string& file = {}) const;
  const ListenerSpec* find_listener(const std::string& name) const {
    for (const auto& l : scenario_.listeners) {
      if (l.config.name == name) return &l;
    }
    return nullptr;
  }
  std::string listener_names() const {
    std::vector<std::string> names;
    for (const auto& l : scenario_.listeners) names.push_back(l.config.name);
    return list(names);
  }
  const ListenerSpec& listener_ref(const YAML::Node& node, const std::string& path) const {
    const auto name = nonempty_text(node, path);
    const auto* found = find_listener(name);
    if (found == nullptr) fail(node, path, "unknown listener \"" + name + "\" (listeners: " + listener_names() + ")");
    return *found;
  }

  std::string file_;
  std::string text_;
  fs::path dir_;
  Scenario scenario_;
  YAML::Node root_;
  std::size_t json_nodes_ = 0;
  std::uint64_t input_lines_ = 0;  // lines the input writes, all files
};

Fields::Fields(Loader& loader, const YAML::Node& node, std::string path, std::vector<std::string> allowed)
    : node_(node), path_(std::move(path)) {
  if (!node.IsMap()) loader.fail(node, path_, "expected a map (" + list(allowed) + "), got " + describe(node));
  for (const auto& entry : node) {
    if (!entry.first.IsScalar()) loader.fail(entry.first, path_, "a key must be a string, got " + describe(entry.first));
    const std::string key = entry.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      loader.fail(entry.first, join(path_, key), "unknown key (" + list(allowed) + ")");
    }
    if (values_.count(key)) loader.fail(entry.first, join(path_, key), "repeated key");
    values_.emplace(key, entry.second);
    keys_.emplace(key, entry.first);
  }
}

// ------------------------------------------------------------ top level ----

Scenario Loader::load() {
  if (const auto starts = yaml::document_starts(text_); starts.size() > 1) {
    throw Fail{file_ + ":" + std::to_string(starts[1].line + 1) + ":" + std::to_string(starts[1].column + 1) +
               ": one scenario per file: a second YAML document"};
  }
  root_.reset(YAML::Load(text_));
  scenario_.path = file_;
  scenario_.name = fs::path(file_).stem().string();
  if (!root_.IsDefined() || root_.IsNull()) {
    throw Fail{file_ + ":1:1: the file is empty: a scenario needs at least listeners, shipper and expect"};
  }
  const Fields top(*this, root_, "",
                   {"name", "description", "timeout", "run_for", "listeners", "shipper", "input", "faults", "expect"});
  if (const auto node = top.get("name")) {
    scenario_.name = nonempty_text(*node, "name");
    if (scenario_.name.find_first_of("/\n\r\t") != std::string::npos) {
      fail(*node, "name", "\"" + scenario_.name + "\" is one line without '/' (it names the test and its artefacts)");
    }
  }
  if (const auto node = top.get("description")) scenario_.description = text(*node, "description");
  if (const auto node = top.get("timeout")) scenario_.timeout = duration(*node, "timeout", false);
  if (const auto node = top.get("run_for")) {
    scenario_.run_for = duration(*node, "run_for", false);
    if (*scenario_.run_for >= scenario_.timeout) fail(*node, "run_for", "must be shorter than the timeout (" + std::to_string(scenario_.timeout.count()) + " ms)");
  }
  read_listeners(top);
  read_shipper(top);
  read_input(top);
  read_faults(top);
  read_expect(top);
  return std::move(scenario_);
}

// ------------------------------------------------------------ listeners ----

bool valid_listener_name(std::string_view name) { return is_identifier(name); }

bool is_loopback(const std::string& host) { return host.rfind("127.", 0) == 0 || host == "::1"; }

// The placeholder file names the runner replaces for `tls: auto`: parse_listener_url
// insists on cert and key (and ca with mode=verify), so these stand in for
// the files of the run's throwaway PKI, and are cleared once it has validated.
constexpr std::string_view kAutoFile = "tls-auto";

void Loader::read_listeners(const Fields& top) {
  const auto node = top.get("listeners");
  if (!node) fail(top.node(), "listeners", "required: a map of NAME: listener (a URL or a map), at least one");
  if (!node->IsMap()) fail(*node, "listeners", "expected a map of NAME: listener (a URL or a map), got " + describe(*node));
  if (node->size() == 0) fail(*node, "listeners", "give at least one listener");
  int index = 0;
  for (const auto& entry : *node) {
    ++index;
    const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    const std::string path = join("listeners", name);
    if (!valid_listener_name(name)) {
      fail(entry.first, path, "a listener name is letters, digits, '_' and '-' (it appears in ${listener.NAME.address})");
    }
    if (find_listener(name) != nullptr) fail(entry.first, path, "repeated listener name");
    if (entry.second.IsNull()) fail(entry.first, path, "expected a listener URL (tcp://127.0.0.1:0?codec=cef) or a map, got null");
    if (entry.second.IsScalar() && kind_of(entry.second) != Kind::null) {
      scenario_.listeners.push_back(read_listener_url(name, entry.second, path, index));
    } else if (entry.second.IsMap()) {
      scenario_.listeners.push_back(read_listener_map(name, entry.second, path, index));
    } else {
      fail(entry.second, path, "expected a listener URL (tcp://127.0.0.1:0?codec=cef) or a map, got " +
                                   describe(entry.second));
    }
  }
}

// The keys of a URL's query, in order.
std::vector<std::pair<std::string, std::string>> query_of(std::string_view url) {
  std::vector<std::pair<std::string, std::string>> out;
  const auto q = url.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = url.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const auto pair = rest.substr(0, amp);
    const auto eq = pair.find('=');
    out.emplace_back(std::string(pair.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1)));
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
  }
  return out;
}

ListenerSpec Loader::read_listener_url(const std::string& name, const YAML::Node& node, const std::string& path,
                                       int index) {
  const std::string url = node.Scalar();
  std::string full = url;
  const auto query = query_of(url);
  auto given = [&](std::string_view key) -> const std::string* {
    for (const auto& [k, v] : query) {
      if (k == key) return &v;
    }
    return nullptr;
  };
  if (const auto* n = given("name"); n != nullptr && *n != name) {
    fail(node, path, "name=" + *n + " differs from the listener's key \"" + name +
                         "\" (the key names the listener: drop name= or make them equal)");
  }
  auto add = [&](const std::string& key, std::string_view value) {
    full += (full.find('?') == std::string::npos ? "?" : "&") + key + "=" + std::string(value);
  };
  if (given("name") == nullptr) add("name", name);
  const bool tls = url.rfind("tls://", 0) == 0;
  const bool auto_tls = tls && !given("cert") && !given("key") && !given("ca");
  if (auto_tls) {
    add("cert", kAutoFile);
    add("key", kAutoFile);
    if (const auto* mode = given("mode"); mode != nullptr && *mode == "verify") add("ca", kAutoFile);
  }
  auto parsed = sim::parse_listener_url(full, index);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    std::string message = *error;
    const std::string prefix = "listener \"" + sim::redacted_url(full) + "\": ";
    if (message.rfind(prefix, 0) == 0) message = "listener \"" + sim::redacted_url(url) + "\": " + message.substr(prefix.size());
    fail(node, path, message);
  }
  ListenerSpec spec{std::get<sim::ListenerConfig>(parsed), auto_tls};
  finish_listener(spec, node, path, node, path);
  return spec;
}

// A value for the URL, percent-encoded: parse_listener_url decodes it whole.
std::string url_value(Loader& loader, const YAML::Node& node, const std::string& path) {
  return sim::url_encoded(loader.text(node, path));
}

ListenerSpec Loader::read_listener_map(const std::string& name, const YAML::Node& node, const std::string& path,
                                       int index) {
  const Fields f(*this, node, path,
                 {"name", "transport", "address", "codec", "delimiter", "framing", "buffer", "rcvbuf", "tls", "topic",
                  "group", "partitions", "brokers", "embedded", "bootstrap", "sasl", "username", "password", "ca",
                  "cert", "key"});
  if (const auto n = f.get("name"); n && text(*n, f.path("name")) != name) {
    fail(*n, f.path("name"), "\"" + n->Scalar() + "\" differs from the listener's key \"" + name +
                                 "\" (the key names the listener: drop name or make them equal)");
  }
  std::string transport = "tcp";
  if (const auto t = f.get("transport")) {
    transport = text(*t, f.path("transport"));
    if (transport != "tcp" && transport != "udp" && transport != "tls" && transport != "kafka") {
      fail(*t, f.path("transport"), "unknown transport \"" + transport + "\" (tcp, udp, tls, kafka)");
    }
  }
  std::string address = "127.0.0.1:0";
  YAML::Node address_node;  // rebound with reset(): a YAML::Node's assignment writes through
  address_node.reset(node);
  std::string address_path = path;
  if (const auto a = f.get("address")) {
    address = text(*a, f.path("address"));
    address_node.reset(*a);
    address_path = f.path("address");
  }
  // Each query key with the node and path it came from, for errors.
  struct Source {
    YAML::Node node;
    std::string path;
  };
  std::vector<std::pair<std::string, std::string>> query{{"name", name}};
  std::map<std::string, Source> sources{{"address", {address_node, address_path}}, {"port", {address_node, address_path}}};
  auto add = [&](const std::string& key, const std::string& value, const YAML::Node& from, const std::string& at_path) {
    query.emplace_back(key, value);
    sources.erase(key);
    sources.emplace(key, Source{from, at_path});
  };
  for (const std::string key : {"codec", "delimiter", "framing", "topic", "group", "bootstrap", "sasl", "username",
                                "password", "ca", "cert", "key"}) {
    if (const auto v = f.get(key)) add(key, url_value(*this, *v, f.path(key)), *v, f.path(key));
  }
  for (const std::string key : {"buffer", "rcvbuf"}) {
    if (const auto v = f.get(key)) add(key, std::to_string(size(*v, f.path(key), 1)), *v, f.path(key));
  }
  for (const std::string key : {"partitions", "brokers"}) {
    if (const auto v = f.get(key)) add(key, std::to_string(count(*v, f.path(key), 1)), *v, f.path(key));
  }
  if (const auto v = f.get("embedded")) add("embedded", boolean(*v, f.path("embedded")) ? "true" : "false", *v, f.path("embedded"));

  bool auto_tls = false;
  const auto tls_node = f.get("tls");
  if (transport == "tls") {
    if (tls_node) sources.emplace("tls", Source{*tls_node, f.path("tls")});  // "tls needs cert and key"
    bool has_files = f.has("cert") || f.has("key") || f.has("ca");
    bool said_auto = false;
    std::string mode = "encrypt";
    if (tls_node && tls_node->IsScalar()) {
      if (text(*tls_node, f.path("tls")) != "auto") {
        fail(*tls_node, f.path("tls"), "expected auto, or a map {mode: encrypt|verify, cert, key, ca}, got " +
                                           describe(*tls_node));
      }
      said_auto = true;
    } else if (tls_node) {
      const Fields t(*this, *tls_node, f.path("tls"), {"mode", "cert", "key", "ca"});
      if (const auto m = t.get("mode")) {
        mode = text(*m, t.path("mode"));
        add("mode", mode, *m, t.path("mode"));
      }
      for (const std::string key : {"cert", "key", "ca"}) {
        if (const auto v = t.get(key)) {
          if (f.has(key)) fail(*v, t.path(key), "given twice: here and as " + f.path(key));
          add(key, url_value(*this, *v, t.path(key)), *v, t.path(key));
          has_files = true;
        }
      }
    }
    if (said_auto && has_files) {
      fail(*tls_node, f.path("tls"), "auto makes cert, key and ca for the run: drop them, or drop auto");
    }
    auto_tls = !has_files;
    if (auto_tls) {
      query.emplace_back("cert", kAutoFile);
      query.emplace_back("key", kAutoFile);
      if (mode == "verify") query.emplace_back("ca", kAutoFile);
    }
  } else if (tls_node && transport == "kafka") {
    if (!tls_node->IsScalar()) {
      fail(*tls_node, f.path("tls"), "a kafka listener's tls is off, on or verify (ca, cert, key are keys of the listener)");
    }
    add("tls", text(*tls_node, f.path("tls")), *tls_node, f.path("tls"));
  } else if (tls_node) {
    fail(*tls_node, f.path("tls"), "applies to tls and kafka listeners (this one is " + transport + ")");
  }

  std::string url = transport + "://" + address;
  for (std::size_t i = 0; i < query.size(); ++i) url += (i == 0 ? "?" : "&") + query[i].first + "=" + query[i].second;
  auto parsed = sim::parse_listener_url(url, index);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    // "listener \"URL\": codec \"x\" is not ...": point at the key the message starts with.
    std::string message = *error;
    const std::string prefix = "listener \"" + sim::redacted_url(url) + "\": ";
    if (message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
    const auto word_end = message.find_first_of(" =:\"");
    const auto source = sources.find(message.substr(0, word_end));
    if (source != sources.end()) fail(source->second.node, source->second.path, message);
    fail(node, path, message);
  }
  ListenerSpec spec{std::get<sim::ListenerConfig>(parsed), auto_tls};
  // Files given in the map are checked with the node that names them.
  for (const std::string key : {"cert", "key", "ca"}) {
    const auto source = sources.find(key);
    if (auto_tls || source == sources.end()) continue;
    std::string& file = key == "cert" ? spec.config.tls.cert_file : key == "key" ? spec.config.tls.key_file : spec.config.tls.ca_file;
    file = existing_file(source->second.node, source->second.path, file);
  }
  finish_listener(spec, node, path, address_node, address_path);
  return spec;
}

// The rules of scenarios on top of the listener's own: loopback, port 0,
// files that exist.
void Loader::finish_listener(ListenerSpec& spec, const YAML::Node& node, const std::string& path,
                             const YAML::Node& address_node, const std::string& address_path) {
  auto& config = spec.config;
  if (config.port != 0) {
    fail(address_node, address_path,
         "port " + std::to_string(config.port) + ": scenarios use ephemeral ports: use port 0");
  }
  const bool external_kafka = config.transport == Transport::kafka && !config.embedded;
  if (!external_kafka && !is_loopback(config.host)) {
    fail(address_node, address_path, "host \"" + config.host + "\": scenarios listen on loopback (127.0.0.1 or [::1])");
  }
  if (spec.tls_auto) {
    // The runner writes the run's PKI and fills these in.
    config.tls.cert_file.clear();
    config.tls.key_file.clear();
    config.tls.ca_file.clear();
    return;
  }
  for (std::string* file : {&config.tls.cert_file, &config.tls.key_file, &config.tls.ca_file}) {
    if (!file->empty() && !fs::path(*file).is_absolute()) *file = existing_file(node, path, *file);
    else if (!file->empty()) existing_file(node, path, *file);
  }
}

// -------------------------------------------------------------- shipper ----

void Loader::check_placeholders(const std::string& text, const YAML::Node& node, const std::string& path,
                                const std::string& file) const {
  auto where = [&](std::size_t offset) -> std::string {
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
    const auto line_start = text.rfind('\n', offset == 0 ? 0 : offset - 1);
    const std::size_t column = offset - (line_start == std::string::npos || offset == 0 ? 0 : line_start + 1) + 1;
    if (!file.empty()) return " (" + file + ":" + std::to_string(line) + ":" + std::to_string(column) + ")";
    if (text.find('\n') != std::string::npos) return " (line " + std::to_string(line) + " of the text)";
    return "";
  };
  auto found = placeholders_in(text);
  if (auto* error = std::get_if<std::string>(&found)) {
    // "... at byte N (...)": add the line.
    std::size_t offset = 0;
    const auto byte = error->find(" at byte ");
    if (byte != std::string::npos) offset = std::stoull(error->substr(byte + 9));
    fail(node, path, *error + where(offset));
  }
  for (const auto& p : std::get<std::vector<Placeholder>>(found)) {
    const std::string shown = "${" + p.name + "}";
    if (p.name.rfind("listener.", 0) == 0) {
      const std::string rest = p.name.substr(9);
      const auto dot = rest.find('.');
      if (dot == std::string::npos) {
        fail(node, path, shown + " at byte " + std::to_string(p.offset) + where(p.offset) +
                             ": expected ${listener.NAME.ATTRIBUTE}, e.g. ${listener." + rest + ".address}");
      }
      const std::string name = rest.substr(0, dot);
      if (find_listener(name) == nullptr) {
        fail(node, path, "unknown listener \"" + name + "\" in " + shown + " at byte " + std::to_string(p.offset) +
                             where(p.offset) + " (listeners: " + listener_names() + ")");
      }
    } else if (p.name.rfind("file.", 0) == 0) {
      const std::string name = p.name.substr(5);
      const auto& files = scenario_.shipper.files;
      const bool known = std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.first == name; });
      if (!known) {
        std::vector<std::string> names;
        for (const auto& f : files) names.push_back(f.first);
        fail(node, path, "unknown file \"" + name + "\" in " + shown + " at byte " + std::to_string(p.offset) +
                             where(p.offset) + " (shipper.files: " + list(names) + ")");
      }
    }
  }
}

void Loader::read_shipper(const Fields& top) {
  const std::string kNeed = "give at least one manifest, or command, or none: true";
  const auto node = top.get("shipper");
  if (!node) fail(top.node(), "shipper.manifests", kNeed);
  if (node->IsScalar() && node->Scalar() == "none") {  // "shipper: none", as scenario.h calls it
    scenario_.shipper.none = true;
    return;
  }
  const Fields f(*this, *node, "shipper", {"manifests", "args", "command", "files", "none"});
  auto& shipper = scenario_.shipper;
  if (const auto none = f.get("none"); none && boolean(*none, f.path("none"))) {
    for (const std::string key : {"manifests", "args", "command", "files"}) {
      if (f.has(key)) fail(f.key_node(key), f.path(key), "none: true runs no shipper: drop " + key);
    }
    shipper.none = true;
    return;
  }
  if (const auto command = f.get("command")) {
    for (const std::string key : {"manifests", "args"}) {
      if (f.has(key)) {
        fail(f.key_node(key), f.path(key),
             key == "args" ? "extra arguments of the bundled shipper: with command, put them in command"
                           : "manifests are for the bundled shipper: with command, give its configuration in files");
      }
    }
    shipper.command = strings(*command, f.path("command"));
    if (shipper.command.empty() || shipper.command[0].empty()) {
      fail(*command, f.path("command"), "give the program and its arguments: [rsyslogd, -n, -f, \"${file.rsyslog.conf}\"]");
    }
    if (const auto files = f.get("files")) {
      if (!files->IsMap()) fail(*files, f.path("files"), "expected a map of NAME: text, got " + describe(*files));
      for (const auto& entry : *files) {
        const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
        const std::string path = join(f.path("files"), name);
        const bool ok = !name.empty() && name != "." && name != ".." && std::all_of(name.begin(), name.end(), [](char c) {
          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-' || c == '.';
        });
        if (!ok) fail(entry.first, path, "a file name is letters, digits, '_', '-' and '.' (written into the run's folder)");
        if (std::any_of(shipper.files.begin(), shipper.files.end(), [&](const auto& p) { return p.first == name; })) {
          fail(entry.first, path, "repeated file name");
        }
        shipper.files.emplace_back(name, text(entry.second, path));
      }
      for (std::size_t i = 0; i < shipper.files.size(); ++i) {
        const auto& [name, content] = shipper.files[i];
        check_placeholders(content, (*files)[name], join(f.path("files"), name));
      }
    }
    for (std::size_t i = 0; i < shipper.command.size(); ++i) {
      check_placeholders(shipper.command[i], (*command)[i], at(f.path("command"), i));
    }
    return;
  }
  if (f.has("files")) fail(f.key_node("files"), f.path("files"), "files go with command (the bundled shipper takes manifests)");
  const auto manifests = f.get("manifests");
  if (!manifests) fail(*node, "shipper.manifests", kNeed);
  if (!manifests->IsSequence()) fail(*manifests, f.path("manifests"), "expected a list of {file} or {inline}, got " + describe(*manifests));
  if (manifests->size() == 0) fail(*manifests, f.path("manifests"), kNeed);
  for (std::size_t i = 0; i < manifests->size(); ++i) {
    shipper.manifests.push_back(read_manifest((*manifests)[i], at(f.path("manifests"), i)));
  }
  if (const auto args = f.get("args")) {
    shipper.args = strings(*args, f.path("args"));
    for (std::size_t i = 0; i < shipper.args.size(); ++i) check_placeholders(shipper.args[i], (*args)[i], at(f.path("args"), i));
  }
}

ManifestSpec Loader::read_manifest(const YAML::Node& node, const std::string& path) {
  const Fields f(*this, node, path, {"file", "inline", "replace"});
  ManifestSpec spec;
  if (f.has("file") == f.has("inline")) fail(node, path, "give file or inline (one of them)");
  std::string content;
  YAML::Node source;
  std::string source_path, shown_file;
  if (const auto file = f.get("file")) {
    source.reset(*file);
    source_path = f.path("file");
    shown_file = text(*file, source_path);
    spec.file = existing_file(*file, source_path, shown_file);
    content = read_file(*file, source_path, spec.file);
  } else {
    source.reset(*f.get("inline"));
    source_path = f.path("inline");
    spec.inline_text = nonempty_text(source, source_path);
    content = spec.inline_text;
  }
  check_placeholders(content, source, source_path, shown_file);
  if (const auto replace = f.get("replace")) {
    if (!replace->IsMap()) {
      fail(*replace, f.path("replace"), "expected a map of \"literal text\": replacement, got " + describe(*replace));
    }
    for (const auto& entry : *replace) {
      const std::string literal = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
      const std::string at_path = join(f.path("replace"), literal);
      if (literal.empty()) fail(entry.first, at_path, "the text to replace is empty");
      const std::string replacement = text(entry.second, at_path);
      check_placeholders(replacement, entry.second, at_path);
      if (content.find(literal) == std::string::npos) {
        fail(entry.first, at_path,
             "\"" + literal + "\" does not occur in the manifest" +
                 (shown_file.empty() ? "" : " " + shown_file) + " (each replace must match, after those before it)");
      }
      // Every occurrence, as the runner will.
      std::string out;
      std::size_t from = 0;
      for (auto pos = content.find(literal); pos != std::string::npos; pos = content.find(literal, from)) {
        out.append(content, from, pos - from);
        out += replacement;
        from = pos + literal.size();
      }
      out.append(content, from);
      content = std::move(out);
      spec.replace.emplace_back(literal, replacement);
    }
  }
  return spec;
}

// ---------------------------------------------------------------- input ----

std::uint64_t count_lines(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::uint64_t lines = 0;
  char last = '\n';
  std::vector<char> buffer(1 << 16);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    if (got == 0) break;
    lines += static_cast<std::uint64_t>(std::count(buffer.begin(), buffer.begin() + static_cast<std::ptrdiff_t>(got), '\n'));
    last = buffer[got - 1];
  }
  return lines + (last == '\n' ? 0 : 1);
}

void Loader::read_input(const Fields& top) {
  const auto node = top.get("input");
  if (!node) return;
  for (const auto& [item, path] : items(*node, "input", true)) {
    const Fields f(*this, item, path, {"file", "pace", "rate", "speed", "limit", "repeat", "rotate_after"});
    InputSpec spec;
    const auto file = f.get("file");
    if (!file) fail(item, f.path("file"), "required: the audit log to write (relative to the scenario's folder)");
    spec.file = existing_file(*file, f.path("file"), text(*file, f.path("file")));
    if (const auto pace = f.get("pace")) {
      const auto value = text(*pace, f.path("pace"));
      if (value == "all") spec.pace = InputSpec::Pace::all;
      else if (value == "rate") spec.pace = InputSpec::Pace::rate;
      else if (value == "recorded") spec.pace = InputSpec::Pace::recorded;
      else fail(*pace, f.path("pace"), "unknown pace \"" + value + "\" (all, rate, recorded)");
    }
    if (const auto rate = f.get("rate")) {
      if (spec.pace != InputSpec::Pace::rate) fail(f.key_node("rate"), f.path("rate"), "applies to pace: rate");
      spec.rate = positive(*rate, f.path("rate"));
    } else if (spec.pace == InputSpec::Pace::rate) {
      fail(item, f.path("rate"), "required with pace: rate (lines per second, > 0)");
    }
    if (const auto speed = f.get("speed")) {
      if (spec.pace != InputSpec::Pace::recorded) fail(f.key_node("speed"), f.path("speed"), "applies to pace: recorded");
      spec.speed = positive(*speed, f.path("speed"));
    }
    if (const auto limit = f.get("limit")) spec.limit = count(*limit, f.path("limit"), 1);
    if (const auto repeat = f.get("repeat")) spec.repeat = count(*repeat, f.path("repeat"), 1);
    std::uint64_t lines = count_lines(spec.file);
    if (spec.limit != 0) lines = std::min(lines, spec.limit);
    const std::uint64_t written = lines * spec.repeat;
    input_lines_ += written;
    if (const auto rotate = f.get("rotate_after")) {
      const std::string rpath = f.path("rotate_after");
      if (!rotate->IsSequence()) fail(*rotate, rpath, "expected a list of line numbers, got " + describe(*rotate));
      for (std::size_t i = 0; i < rotate->size(); ++i) {
        const auto n = count((*rotate)[i], at(rpath, i), 1);
        if (!spec.rotate_after.empty() && n <= spec.rotate_after.back()) {
          fail((*rotate)[i], at(rpath, i),
               std::to_string(n) + " is not after " + std::to_string(spec.rotate_after.back()) + " (strictly increasing)");
        }
        if (n > written) {
          fail((*rotate)[i], at(rpath, i),
               std::to_string(n) + " is past the last line written (" + std::to_string(written) + " lines)");
        }
        spec.rotate_after.push_back(n);
      }
    }
    scenario_.input.push_back(std::move(spec));
  }
}

// --------------------------------------------------------------- faults ----

void Loader::read_faults(const Fields& top) {
  const auto node = top.get("faults");
  if (!node) return;
  for (const auto& [item, path] : items(*node, "faults", false)) {
    const Fields f(*this, item, path, {"at", "action", "listener", "for", "bytes_per_second", "broker"});
    FaultSpec spec{};
    // action first: what else is allowed depends on it.
    const auto action = f.get("action");
    std::vector<std::string> names;
    for (const auto& [name, a] : kFaultActions) names.emplace_back(name);
    if (!action) fail(item, f.path("action"), "required (" + list(names) + ")");
    const auto value = text(*action, f.path("action"));
    const auto it = std::find_if(kFaultActions.begin(), kFaultActions.end(), [&](const auto& p) { return p.first == value; });
    if (it == kFaultActions.end()) fail(*action, f.path("action"), "unknown action \"" + value + "\" (" + list(names) + ")");
    spec.action = it->second;
    const auto a = spec.action;
    const bool kafka = a == Action::kafka_broker_down || a == Action::kafka_broker_up;
    const bool shipper = a == Action::kill_shipper || a == Action::restart_shipper;
    const bool timed = a == Action::refuse_connections || a == Action::slow_reader || a == Action::fail_tls_handshakes;

    const auto at_node = f.get("at");
    if (!at_node) fail(item, f.path("at"), "required: {events, bytes, lines, time} (at least one; the first reached fires)");
    const Fields t(*this, *at_node, f.path("at"), {"events", "bytes", "lines", "time", "listener"});
    if (const auto v = t.get("events")) spec.at.events = count(*v, t.path("events"), 0);
    if (const auto v = t.get("bytes")) spec.at.bytes = size(*v, t.path("bytes"), 0);
    if (const auto v = t.get("lines")) {
      spec.at.lines = count(*v, t.path("lines"), 0);
      if (scenario_.input.empty()) fail(*v, t.path("lines"), "counts input lines, and the scenario has no input");
      if (*spec.at.lines > input_lines_) {
        fail(*v, t.path("lines"), std::to_string(*spec.at.lines) + " is past the last input line (" +
                                      std::to_string(input_lines_) + " lines)");
      }
    }
    if (const auto v = t.get("time")) spec.at.time = duration(*v, t.path("time"), true);
    if (!spec.at.events && !spec.at.bytes && !spec.at.lines && !spec.at.time) {
      fail(*at_node, f.path("at"), "give at least one of events, bytes, lines, time");
    }
    if (const auto v = t.get("listener")) {
      if (!spec.at.events && !spec.at.bytes) fail(*v, t.path("listener"), "applies to events and bytes (counted on that listener)");
      spec.at.listener = listener_ref(*v, t.path("listener")).config.name;
    }

    const auto listener = f.get("listener");
    if (shipper) {
      if (listener) fail(f.key_node("listener"), f.path("listener"), value + " takes no listener");
      if (scenario_.shipper.none) fail(*action, f.path("action"), value + ": the scenario runs no shipper (shipper: none)");
    } else {
      if (!listener) fail(item, f.path("listener"), "required for " + value + ": the listener it acts on");
      const auto& l = listener_ref(*listener, f.path("listener"));
      spec.listener = l.config.name;
      const auto transport = l.config.transport;
      const std::string is = "listener \"" + spec.listener + "\" is " + sim::transport_name(transport);
      if (kafka && (transport != Transport::kafka || !l.config.embedded)) {
        fail(*listener, f.path("listener"), value + " needs an embedded kafka listener (" + is + ")");
      }
      if (a == Action::fail_tls_handshakes && transport != Transport::tls) {
        fail(*listener, f.path("listener"), value + " needs a tls listener (" + is + ")");
      }
      if (!kafka && a != Action::fail_tls_handshakes && transport != Transport::tcp && transport != Transport::tls) {
        fail(*listener, f.path("listener"), value + " needs a tcp or tls listener (" + is + ")");
      }
    }
    if (const auto v = f.get("for")) {
      if (!timed && a != Action::kafka_broker_down) {
        fail(f.key_node("for"), f.path("for"), "applies to refuse_connections, slow_reader, fail_tls_handshakes and kafka_broker_down");
      }
      spec.duration = duration(*v, f.path("for"), false);
    } else if (timed) {
      fail(item, f.path("for"), "required for " + value + ": how long (" + kDurationRule + ")");
    }
    if (const auto v = f.get("bytes_per_second")) {
      if (a != Action::slow_reader) fail(f.key_node("bytes_per_second"), f.path("bytes_per_second"), "applies to slow_reader");
      spec.bytes_per_second = size(*v, f.path("bytes_per_second"), 1);
    } else if (a == Action::slow_reader) {
      fail(item, f.path("bytes_per_second"), "required for slow_reader (> 0; " + std::string(kSizeRule) + ")");
    }
    if (const auto v = f.get("broker")) {
      if (!kafka) fail(f.key_node("broker"), f.path("broker"), "applies to kafka_broker_down and kafka_broker_up");
      const auto brokers = find_listener(spec.listener)->config.brokers;
      const auto n = count(*v, f.path("broker"), 1);
      if (n > static_cast<std::uint64_t>(brokers)) {
        fail(*v, f.path("broker"), std::to_string(n) + " is not 1-" + std::to_string(brokers) + " (listener \"" +
                                       spec.listener + "\" has " + std::to_string(brokers) + " broker" +
                                       (brokers == 1 ? "" : "s") + ")");
      }
      spec.broker = static_cast<int>(n);
    }
    scenario_.faults.push_back(std::move(spec));
  }
}

// --------------------------------------------------------------- expect ----

// The YAML node a ParseError's place (".every[1].not", "expectations[0].where")
// names, starting from `start`, as far as it can be followed. With `top`, a
// leading "expectations" step is the body's own list (or the map's key).
// (Nodes are rebound with reset(): a YAML::Node's assignment writes through.)
YAML::Node locate(const YAML::Node& start, const std::string& where, bool top) {
  YAML::Node node;
  node.reset(start);
  std::size_t i = 0;
  bool first = true;
  while (i < where.size()) {
    if (where[i] == '.') ++i;
    const std::size_t end = where.find_first_of(".[", i);
    const std::string key = where.substr(i, end == std::string::npos ? std::string::npos : end - i);
    i = end == std::string::npos ? where.size() : end;
    const YAML::Node& current = node;
    if (!key.empty()) {
      if (first && top && key == "expectations") {
        if (current.IsMap() && current["expectations"]) node.reset(current["expectations"]);
      } else if (current.IsMap() && current[key]) {
        node.reset(current[key]);
      } else {
        return node;
      }
    }
    first = false;
    while (i < where.size() && where[i] == '[') {
      const auto close = where.find(']', i);
      if (close == std::string::npos) return node;
      std::size_t index = 0;
      const auto digits = std::string_view(where).substr(i + 1, close - i - 1);
      if (std::from_chars(digits.data(), digits.data() + digits.size(), index).ec != std::errc()) return node;
      i = close + 1;
      const YAML::Node& list = node;
      if (list.IsSequence() && index < list.size()) node.reset(list[index]);
      else if (!(list.IsMap() && index == 0)) return node;  // a single object stands for a list of one
    }
  }
  return node;
}

nlohmann::json Loader::read_matchers(const YAML::Node& node, const std::string& path) {
  auto json = to_json(node, path);
  if (json.is_array() && json.empty()) return nullptr;
  // The matchers of an expectation's `where`: the language checks them.
  const nlohmann::json wrapped{{"expectations", {{{"where", json}, {"count", {{"min", 0}}}}}}};
  auto parsed = expect::parse(wrapped);
  if (auto* error = std::get_if<expect::ParseError>(&parsed)) {
    const std::string prefix = "expectations[0].where";
    std::string rest = error->where.rfind(prefix, 0) == 0 ? error->where.substr(prefix.size()) : std::string();
    const YAML::Node at_node = locate(node, rest, false);
    fail(rest.empty() ? node : at_node, path + rest, error->message);
  }
  return json;
}

void Loader::read_expect(const Fields& top) {
  const std::string kNeed = "give at least one expectation (events, delivered, latency, shipper or stats)";
  const auto node = top.get("expect");
  if (!node) fail(top.node(), "expect", "required: " + kNeed);
  const Fields f(*this, *node, "expect", {"events", "delivered", "latency", "shipper", "stats"});
  auto& expect = scenario_.expect;
  if (const auto events = f.get("events")) {
    expect.events = to_json(*events, f.path("events"));
    auto parsed = expect::parse(expect.events);
    if (auto* error = std::get_if<expect::ParseError>(&parsed)) {
      // The node `where` names: a bare list's items are expectations[i]; a single E is expectations[0].
      const YAML::Node& body = *events;
      const bool single = body.IsMap() && !body["expectations"];
      const std::string& where = error->where;
      const YAML::Node at_node = single && where.rfind("expectations[0]", 0) == 0 ? locate(body, where.substr(15), false)
                                                                               : locate(body, where, true);
      fail(at_node, f.path("events"), error->text());
    }
  }
  const auto needs_input = [&](const std::string& key) {
    if (scenario_.input.empty()) fail(f.key_node(key), f.path(key), "checks input lines, and the scenario has no input");
  };
  if (const auto delivered = f.get("delivered")) {
    needs_input("delivered");
    for (const auto& [item, path] : items(*delivered, f.path("delivered"), true)) {
      const Fields d(*this, item, path, {"name", "listener", "select", "duplicates", "in_order", "exclusive", "content"});
      DeliveredSpec spec;
      spec.name = path;
      if (const auto v = d.get("name")) spec.name = nonempty_text(*v, d.path("name"));
      if (const auto v = d.get("listener")) spec.listener = listener_ref(*v, d.path("listener")).config.name;
      if (const auto v = d.get("select")) spec.select = read_matchers(*v, d.path("select"));
      if (const auto v = d.get("duplicates")) spec.duplicates = count(*v, d.path("duplicates"), 0);
      if (const auto v = d.get("in_order")) spec.in_order = boolean(*v, d.path("in_order"));
      if (const auto v = d.get("exclusive")) spec.exclusive = boolean(*v, d.path("exclusive"));
      if (const auto v = d.get("content")) spec.content = content_path(*v, d.path("content"));
      expect.delivered.push_back(std::move(spec));
    }
  }
  if (const auto latency = f.get("latency")) {
    needs_input("latency");
    for (const auto& [item, path] : items(*latency, f.path("latency"), true)) {
      const Fields l(*this, item, path, {"name", "listener", "percentile", "max", "content"});
      LatencySpec spec;
      spec.name = path;
      if (const auto v = l.get("name")) spec.name = nonempty_text(*v, l.path("name"));
      if (const auto v = l.get("listener")) spec.listener = listener_ref(*v, l.path("listener")).config.name;
      if (const auto v = l.get("content")) spec.content = content_path(*v, l.path("content"));
      if (const auto v = l.get("percentile")) {
        spec.percentile = number(*v, l.path("percentile"));
        if (!(spec.percentile > 0 && spec.percentile <= 100)) fail(*v, l.path("percentile"), v->Scalar() + " is not in (0, 100]");
      }
      const auto max = l.get("max");
      if (!max) fail(item, l.path("max"), "required: the longest latency allowed (" + std::string(kDurationRule) + ")");
      spec.max = duration(*max, l.path("max"), false);
      expect.latency.push_back(std::move(spec));
    }
  }
  if (const auto shipper = f.get("shipper")) {
    const Fields s(*this, *shipper, f.path("shipper"), {"exit", "summary", "log"});
    if (scenario_.shipper.none) fail(*shipper, f.path("shipper"), "the scenario runs no shipper (shipper: none)");
    ShipperExpectation spec;
    if (const auto v = s.get("exit")) {
      const auto code = count(*v, s.path("exit"), 0);
      if (code > 255) fail(*v, s.path("exit"), std::to_string(code) + " is not an exit status (0-255)");
      spec.exit = static_cast<int>(code);
    }
    if (const auto summary = s.get("summary")) {
      if (!scenario_.shipper.command.empty()) {
        fail(s.key_node("summary"), s.path("summary"), "only the bundled shipper writes a summary (this one runs a command)");
      }
      spec.summary = read_value_checks(*summary, s.path("summary"), "the --summary JSON (destinations.0.sent)");
    }
    if (const auto log = s.get("log")) {
      for (const auto& [item, path] : items(*log, s.path("log"), true)) {
        const std::string pattern = nonempty_text(item, path);
        re2::RE2::Options options;
        options.set_log_errors(false);
        const re2::RE2 re(pattern, options);
        if (!re.ok()) fail(item, path, "invalid regex \"" + pattern + "\": " + re.error());
        spec.log.push_back(pattern);
      }
    }
    if (!spec.exit && spec.summary.empty() && spec.log.empty()) fail(*shipper, f.path("shipper"), "give exit, summary, log or some of them");
    expect.shipper = std::move(spec);
  }
  if (const auto stats = f.get("stats")) expect.stats = read_value_checks(*stats, f.path("stats"), "the stats (listeners.NAME.COUNTER)");
  if (expect.events.is_null() && expect.delivered.empty() && expect.latency.empty() && !expect.shipper && expect.stats.empty()) {
    fail(*node, "expect", kNeed);
  }
}

// Where an event holds the input line's text: a field path of the expectation language.
std::string Loader::content_path(const YAML::Node& node, const std::string& path) {
  std::string content = nonempty_text(node, path);
  const nlohmann::json probe{{"some", {{"field", content}, {"exists", true}}}};
  auto parsed = expect::parse(probe);
  if (auto* error = std::get_if<expect::ParseError>(&parsed)) fail(node, path, error->message);
  return content;
}

// A map of dotted path → value or {min, max}, checked at the end against a
// JSON document (`into` names it in errors).
std::vector<std::pair<std::string, nlohmann::json>> Loader::read_value_checks(const YAML::Node& node, const std::string& where,
                                                                                const std::string& into) {
  if (!node.IsMap()) fail(node, where, "expected a map of dotted path: value or {min, max}, got " + describe(node));
  std::vector<std::pair<std::string, nlohmann::json>> checks;
  for (const auto& entry : node) {
    const std::string key = entry.first.IsScalar() ? entry.first.Scalar() : std::string();
    const std::string path = join(where, key);
    if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos) {
      fail(entry.first, path, "a dotted path into " + into);
    }
    if (std::any_of(checks.begin(), checks.end(), [&](const auto& p) { return p.first == key; })) {
      fail(entry.first, path, "repeated key");
    }
    nlohmann::json value;
    if (entry.second.IsMap()) {
      const Fields range(*this, entry.second, path, {"min", "max"});
      value = nlohmann::json::object();
      for (const std::string bound : {"min", "max"}) {
        if (const auto b = range.get(bound)) value[bound] = to_json(*b, range.path(bound));
        if (value.contains(bound) && !value[bound].is_number()) {
          fail(*range.get(bound), range.path(bound), "expected a number, got " + describe(*range.get(bound)));
        }
      }
      if (value.empty()) fail(entry.second, path, "give min, max or both");
      if (value.contains("min") && value.contains("max") && value["min"] > value["max"]) {
        fail(entry.second, path, "min is greater than max");
      }
    } else if (entry.second.IsSequence()) {
      fail(entry.second, path, "expected a value or {min, max}, got a list");
    } else {
      value = to_json(entry.second, path);
    }
    checks.emplace_back(key, std::move(value));
  }
  return checks;
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (!text.empty() && all_of(text, is_digit)) {
    std::uint64_t ms = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (ec != std::errc() || ms > 1'000'000'000'000ull) return std::nullopt;
    return Duration(static_cast<Duration::rep>(ms));
  }
  static const std::vector<std::pair<std::string_view, double>> kUnits{{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
  for (const auto& [suffix, factor] : kUnits) {
    if (text.size() <= suffix.size() || text.substr(text.size() - suffix.size()) != suffix) continue;
    const std::string_view number = text.substr(0, text.size() - suffix.size());
    const auto dot = number.find('.');
    const bool ok = dot == std::string_view::npos
                        ? all_of(number, is_digit)
                        : (all_of(number.substr(0, dot), is_digit) && all_of(number.substr(dot + 1), is_digit));
    if (!ok) return std::nullopt;
    double value = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size()) return std::nullopt;
    const double ms = std::round(value * factor);
    if (!(ms <= 1e12)) return std::nullopt;
    return Duration(static_cast<Duration::rep>(ms));
  }
  return std::nullopt;
}

std::variant<Scenario, std::string> parse_scenario(const std::string& text, const std::string& path) {
  try {
    Loader loader(path, text);
    return loader.load();
  } catch (const Fail& e) {
    return e.message;
  } catch (const YAML::Exception& e) {
    return path + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
           ": YAML syntax: " + e.msg;
  }
}

std::variant<Scenario, std::string> load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return path + ": cannot read the file";
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path);
}

}  // namespace kumasim::scenario
