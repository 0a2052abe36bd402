#include "formats/lint.h"

#include <algorithm>
#include <array>

namespace kumasim::formats {
namespace {

using enum LintLevel;

// Indexed by LintId; the definitions are the spec's, shortened (kuma-receiver.md §8).
constexpr std::array<LintInfo, kLintCount> kCatalog{{
    {"cef-version-1", warn, "header starts CEF:1; KUMA's acceptance of version 1 is unverified"},
    {"cef-version-unknown", warn, "the CEF version is an integer other than 0 or 1"},
    {"cef-missing-trailing-pipe", warn, "header ends after Severity with no closing pipe"},
    {"cef-incomplete-header", error, "fewer than seven header fields, or a non-numeric version"},
    {"frame-not-cef", error, "a frame on a CEF listener contains no CEF:"},
    {"cef-unexpected-prefix", info, "text precedes CEF: on a plain-CEF normalizer"},
    {"cef-syslog-header-missing", warn, "raw CEF reached a Syslog-CEF normalizer"},
    {"cef-malformed-extension", error, "the extension does not start with KEY=; the leading text is lost"},
    {"cef-unescaped-equals", warn, "a value contains an unescaped '=', kept literally"},
    {"cef-pipe-escape-in-extension", info, "an escaped pipe appears in an extension value"},
    {"cef-invalid-escape", info, "a backslash before a character the spec does not define there"},
    {"cef-duplicate-key", warn, "an extension key repeats; the last value wins"},
    {"cef-severity-invalid", warn, "Severity is neither 0-10 nor Unknown/Low/Medium/High/Very-High"},
    {"cef-header-field-too-long", warn, "a CEF header field is longer than its limit"},
    {"cef-nonstandard-extension-keys", info, "extension keys outside the ArcSight dictionary land in Extra"},
    {"udp-over-kuma-buffer", error, "a UDP datagram is larger than the udp connector buffer"},
    {"tcp-frame-over-buffer", warn, "a TCP frame is larger than the tcp connector buffer"},
    {"event-over-4mb", error, "the raw event exceeds KUMA's 4 MB maximum event size"},
    {"frame-unterminated", info, "the connection closed with bytes after the last delimiter"},
    {"empty-frame", info, "two delimiters in a row produced an empty frame, which was skipped"},
    {"trailing-cr", info, "the frame ends in CR; KUMA keeps the CR in the event"},
    {"non-utf8", warn, "the frame is not valid UTF-8 but the connector expects UTF-8"},
    {"json-not-object", error, "a JSON normalizer received something other than a JSON object"},
    {"syslog-secfrac-over-6", warn, "the RFC 5424 TIMESTAMP has more than 6 fractional digits"},
    {"syslog-not-rfc5424", warn, "the message breaks RFC 5424"},
    {"syslog-labels-between-app-and-procid", warn, "words, an SD element or empty fields between APP-NAME and PROCID"},
    {"octet-counting-unsupported", error, "an RFC 6587 MSG-LEN prefix; KUMA tcp connectors have no octet counting"},
    {"tls-mismatch", error, "TLS traffic on a plain listener, or plain traffic on a TLS listener"},
    {"tls-ip-url", warn, "TLS on an http or kafka connector whose URL is an IP address"},
}};

}  // namespace

const LintInfo& lint_info(LintId id) { return kCatalog[static_cast<std::size_t>(id)]; }

std::optional<LintId> lint_from_name(std::string_view name) {
  for (std::size_t i = 0; i < kCatalog.size(); ++i) {
    if (kCatalog[i].name == name) return static_cast<LintId>(i);
  }
  return std::nullopt;
}

std::string_view to_string(LintLevel level) {
  switch (level) {
    case LintLevel::info: return "info";
    case LintLevel::warn: return "warn";
    case LintLevel::error: return "error";
  }
  return "?";
}

bool has_lint(const Lints& lints, LintId id) {
  return std::any_of(lints.begin(), lints.end(), [id](const Lint& l) { return l.id == id; });
}

}  // namespace kumasim::formats
