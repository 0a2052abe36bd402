// KUMA compatibility lints (kuma-receiver.md §8): what a real KUMA would lose,
// misparse, or merely do differently with an event. A lint never changes what
// was decoded; it describes what KUMA would make of it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kumasim::formats {

enum class LintLevel : std::uint8_t { info, warn, error };

// One enumerator per lint id of the spec, in the spec's order.
enum class LintId : std::uint8_t {
  cef_version_1,
  cef_version_unknown,
  cef_missing_trailing_pipe,
  cef_incomplete_header,
  frame_not_cef,
  cef_unexpected_prefix,
  cef_syslog_header_missing,
  cef_malformed_extension,
  cef_unescaped_equals,
  cef_pipe_escape_in_extension,
  cef_invalid_escape,
  cef_duplicate_key,
  cef_severity_invalid,
  cef_header_field_too_long,
  cef_nonstandard_extension_keys,
  udp_over_kuma_buffer,
  tcp_frame_over_buffer,
  event_over_4mb,
  frame_unterminated,
  empty_frame,
  trailing_cr,
  non_utf8,
  json_not_object,
  syslog_secfrac_over_6,
  syslog_not_rfc5424,
  syslog_labels_between_app_and_procid,
  octet_counting_unsupported,
  tls_mismatch,
  tls_ip_url,
};
inline constexpr std::size_t kLintCount = static_cast<std::size_t>(LintId::tls_ip_url) + 1;

struct LintInfo {
  std::string_view name;  // the spec's id, e.g. "cef-version-1"
  LintLevel level;
  std::string_view definition;
};

const LintInfo& lint_info(LintId id);
std::optional<LintId> lint_from_name(std::string_view name);
std::string_view to_string(LintLevel level);

struct Lint {
  LintId id;
  std::string detail;  // reason code or context ("bad-timestamp", the keys...); may be empty
  friend bool operator==(const Lint&, const Lint&) = default;
};
using Lints = std::vector<Lint>;

// True when `lints` holds `id` (with any detail).
bool has_lint(const Lints& lints, LintId id);

}  // namespace kumasim::formats
