// Internal to the manifest loader: the value rules of DKP's CRDs and of the
// Vector configuration DKP generates (dkp-log-shipper.md §3-§5, §7.4, §8),
// as pure functions of the text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace kumasim::shipper::detail {

// The CRD's patterns, matched with RE2 (the API server's Go regexp is RE2 too).
inline constexpr std::string_view kAddressPattern = R"(^.*:[1-9][0-9]+$)";
inline constexpr std::string_view kBootstrapPattern = R"(^(.+)\:\d{1,5}$)";
inline constexpr std::string_view kStaticLabelPattern = R"(^[a-zA-Z0-9_\-]+$)";
inline constexpr std::string_view kTemplateLabelPattern = R"(^\{\{\ [a-zA-Z0-9\\\-][a-zA-Z0-9\[\]_\\\-\.]+\ \}\}$)";
bool matches(std::string_view pattern, std::string_view text);

// A socket address that matched kAddressPattern: the host without IPv6
// brackets and the port, which may still be above 65535.
struct HostPort {
  std::string host;
  std::uint64_t port = 0;
};
HostPort split_address(std::string_view address);

// A Kubernetes quantity as the CRD's pattern for buffer.disk.maxSize admits
// it: optional sign, a fixed-point number, then a binary suffix (Ki Mi Gi Ti
// Pi Ei), a decimal one (n u m k M G T P E) or an integer exponent (e3, E+6).
// The byte count is rounded up, as Quantity.Value() does. Error: why not.
std::variant<std::int64_t, std::string> parse_quantity(std::string_view text);

// extraLabels keys DKP reserves for its KubernetesPods metadata (§3.6).
bool is_forbidden_label_key(std::string_view key);
// §16.9: non-empty, only letters, digits, `_`, `.` and `-`.
bool is_valid_label_key(std::string_view key);

// §7.4: a `|` outside every group and class, so the textual anchors bind to
// the first and last alternative only.
bool has_top_level_alternation(std::string_view regex);

// metadata.name of a cluster-scoped object: an RFC 1123 DNS subdomain.
bool is_dns_subdomain(std::string_view name);

}  // namespace kumasim::shipper::detail
