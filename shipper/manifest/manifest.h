// ClusterLogDestination and ClusterLoggingConfig manifests as DKP's API server
// leaves them (defaults applied, unknown fields pruned), and everything wrong
// or surprising about them as diagnostics (dkp-log-shipper.md §3-§5, §15).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kumasim::shipper {

// One finding of the validator. `document` is 1-based within `file`; `path`
// is the field path inside the document ("spec.socket.address",
// "spec.logFilter[0].values"); line/column (1-based) point at the YAML node
// when known, else 0. `code` is the spec's rule name ("required",
// "enum", "pruned-field", "tcp-verify-ignored", ...).
struct Diagnostic {
  enum class Severity { error, warning };
  Severity severity = Severity::error;
  std::string code;
  std::string file;
  int document = 0;
  std::string path;
  int line = 0, column = 0;
  std::string message;
};

// "file: document N: path: error[code]: message (line L, column C)"; the
// document (0: the file as a whole), path and position are left out when unknown.
std::string to_string(const Diagnostic& d);

enum class Codec { json, text, syslog, cef, gelf };
// The CRD's spelling of a codec ("JSON", "Text", "Syslog", "CEF", "GELF"), and back.
std::string_view codec_name(Codec codec);
std::optional<Codec> codec_named(std::string_view name);
enum class FilterOperator { in, not_in, regex, not_regex, exists, does_not_exist };

// YAML keeps the type: `200` is an integer, `"200"` a string (§7.3).
using FilterValue = std::variant<std::int64_t, std::string>;

struct FilterSpec {
  std::string field;
  FilterOperator op = FilterOperator::exists;
  std::vector<FilterValue> values;
};

// TLS material after base64 decoding (§3.3); a value that fails to decode is "".
struct TlsMaterial {
  std::string ca_pem, crt_pem, key_pem, key_pass;
  // gen-b/gen-c rule, tested on the manifest strings (§16.6); never for UDP.
  bool enabled = false;
  bool verify_hostname = true, verify_certificate = true;  // Kafka honours them; Socket always true (§3.4)
};

struct CefDevice {
  std::string vendor = "Deckhouse", product = "log-shipper-agent", version = "1";
};

struct SocketSpec {
  enum class Mode { tcp, udp };
  std::string address;  // as written: "host:port", "[::1]:port"
  std::string host;     // without brackets
  std::uint16_t port = 0;
  Mode mode = Mode::tcp;
};

struct KafkaSpec {
  std::string topic;  // template (§11.3)
  std::vector<std::string> bootstrap_servers;
  std::optional<std::string> key_field;
  struct Sasl {
    std::string mechanism, username, password;
  };
  std::optional<Sasl> sasl;  // set only when all three are non-empty
};

struct RateLimitSpec {
  std::int64_t lines_per_minute = 0;
  std::optional<std::string> key_field;
  std::vector<FilterSpec> excludes;  // paths from the event root
};

struct BufferSpec {
  enum class Type { memory, disk };
  enum class WhenFull { block, drop_newest };
  Type type = Type::memory;
  std::uint64_t max_events = 500;  // memory
  std::uint64_t max_size = 0;      // disk, bytes
  WhenFull when_full = WhenFull::block;
};

struct Destination {
  std::string name;
  std::variant<SocketSpec, KafkaSpec> transport;
  Codec codec = Codec::json;
  CefDevice cef;
  TlsMaterial tls;
  std::map<std::string, std::string> extra_labels;  // std::map: byte-wise key order (§8)
  std::optional<RateLimitSpec> rate_limit;
  BufferSpec buffer;
};

struct Source {
  std::string name;
  std::vector<std::string> include, exclude;  // globs as the node sees them
  std::string line_delimiter = "\n";
  std::vector<FilterSpec> label_filter, log_filter;
  std::vector<std::string> destination_refs;  // repeated and dangling refs removed (warned)
};

struct Manifests {
  std::vector<Destination> destinations;  // later definitions replaced earlier ones
  std::vector<Source> sources;
  std::vector<Diagnostic> diagnostics;  // in file, document, path order
  bool has_errors() const;
  const Destination* destination(std::string_view name) const;
};

// Reads every file (multi-document YAML, as `kubectl apply -f` takes them) and
// validates as the API server with DKP's CRDs would, plus the Vector
// configuration checks and warnings of §5. Never throws for bad input: an
// unreadable file or broken YAML is an error diagnostic too. Objects with
// errors are left out of destinations/sources.
Manifests load_manifests(const std::vector<std::string>& files);

}  // namespace kumasim::shipper
