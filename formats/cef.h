// CEF (ArcSight Common Event Format): the decoder a KUMA "cef" normalizer is
// emulated with (kuma-receiver.md §5), its KUMA view and lints (§4.2, §8), and
// the encoder DKP log-shipper drives through Vector (dkp-log-shipper.md §10.3).
//
// The decoder keeps views into the input and unescapes lazily, so the input
// must outlive the Event; the encoder works on the shipper's JSON event.
#pragma once

#include "formats/decode_error.h"
#include "formats/kuma_view.h"
#include "formats/lint.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kumasim::formats::cef {

// ---------------------------------------------------------------- decoding

// What the scanner saw in one raw (escaped) value; OR-ed together per value.
enum EscapeFlags : std::uint8_t {
  kHasEscape = 1 << 0,        // holds a backslash: the raw view differs from the value
  kInvalidEscape = 1 << 1,    // backslash before a character undefined at that position, or a final lone one
  kPipeEscape = 1 << 2,       // `\|` in an extension value (a literal pipe here)
  kUnescapedEquals = 1 << 3,  // an extension value holds a literal, unescaped '='
};

// §5.6 step 3 (header) and step 4 (extension value) unescaping.
std::string unescape_header(std::string_view raw);
std::string unescape_value(std::string_view raw);

struct Extension {
  std::string_view key;
  std::string_view raw_value;  // escaped as sent; the final value is already trimmed
  std::uint8_t flags = 0;      // EscapeFlags

  std::string value() const { return flags & kHasEscape ? unescape_value(raw_value) : std::string(raw_value); }
};

// The six header fields after the version, in wire order.
enum class HeaderField : std::uint8_t { device_vendor, device_product, device_version, signature_id, name, severity };
inline constexpr std::size_t kHeaderFields = 6;

// Why decode() failed; the Event keeps whatever was parsed before that.
enum class Failure : std::uint8_t {
  none,
  no_cef,               // no "CEF:" in the frame (the normalizer decides frame-not-cef)
  bad_version,          // text between "CEF:" and the first '|' is not 1+ ASCII digits
  incomplete_header,    // the input ends before the seventh field
  malformed_extension,  // the extension does not start with KEY=; the header and later pairs are kept
};

struct Event {
  std::string_view prefix;       // text before "CEF:" (empty when the frame starts with it)
  bool found_cef = false;        // "CEF:" occurs in the frame
  std::string_view version_text;  // the digits after "CEF:", empty until parsed
  int version = -1;              // -1 until parsed; saturates at INT_MAX
  std::array<std::string_view, kHeaderFields> header{};  // raw (escaped) views, indexed by HeaderField
  std::array<std::uint8_t, kHeaderFields> header_flags{};  // kHasEscape | kInvalidEscape
  std::size_t header_fields = 0;  // how many of the six fields were read
  bool missing_trailing_pipe = false;  // input ended inside Severity
  std::string_view discarded;     // leading extension text lost to cef-malformed-extension
  std::vector<Extension> extensions;  // in wire order, duplicates included (reused across decodes)
  std::uint8_t extension_flags = 0;  // OR of every extension's flags
  bool duplicate_keys = false;
  Failure failure = Failure::none;

  std::string_view raw(HeaderField f) const { return header[static_cast<std::size_t>(f)]; }
  std::uint8_t flags(HeaderField f) const { return header_flags[static_cast<std::size_t>(f)]; }
  std::string value(HeaderField f) const;  // unescaped
  bool has(HeaderField f) const { return static_cast<std::size_t>(f) < header_fields; }

  // Forgets the previous decode; keeps the vectors' capacity.
  void clear();

 private:
  friend DecodeResult decode(std::string_view in, Event& out);
  std::vector<std::string_view> key_scratch_;  // duplicate-key check of long extensions, reused
};

// §5.6 steps 1-4. Never throws; allocates only while `out`'s reused vectors
// grow (the extensions, and a scratch copy of the keys beyond 16 pairs).
// A malformed extension is a normalization error, but `out` still holds the
// header and every pair after the first boundary.
DecodeResult decode(std::string_view in, Event& out);

// ---------------------------------------------------------------- KUMA side

// version (integer), the six header fields unescaped, extensions (key -> value,
// last duplicate wins); "prefix" only when non-empty. Fields a failed decode did
// not reach are absent. Values are the exact bytes: dump with
// nlohmann::json::error_handler_t::replace when the frame may be non-UTF-8.
nlohmann::json fields_json(const Event& e);

// §4.2. Header fields, Extra.cefVersion, dictionary keys to their fields (an
// Address field drops a value that is not an IP), other keys to Extra[key],
// Extra.cefPrefix for any prefix (a Syslog-CEF normalizer that parsed the prefix
// removes it). `raw` is left to the caller, who knows the Keep-raw setting.
KumaEvent kuma_view(const Event& e);

// True for a short ArcSight key of the §4.2 table (the "dictionary").
bool is_dictionary_key(std::string_view key);

// The cef-* lints decode() can decide, in catalog order; also after a failed
// decode. frame-not-cef, cef-unexpected-prefix and cef-syslog-header-missing
// are the normalizer's (see Event::found_cef and Event::prefix).
void add_lints(const Event& e, Lints& out);

// ---------------------------------------------------------------- encoding

struct EncoderConfig {
  std::string device_vendor = "Deckhouse", device_product = "log-shipper-agent", device_version = "1";
  std::vector<std::pair<std::string, std::string>> extensions;  // CEF key -> top-level/dotted event path
};

// normalize(k) of §10.3: keeps ASCII letters and digits, lowercased.
std::string normalize_key(std::string_view label_key);

// The extension maps of §10.3 for "gen-a" (extraLabels ignored), "gen-b" and
// "gen-c"; an extraLabels entry wins a collision (among labels, the last in
// byte order). Throws std::invalid_argument for another profile name.
EncoderConfig config_for_profile(std::string_view profile, const std::vector<std::string>& extra_label_keys);

// Vector's build-time checks of the sink configuration, with Vector's message:
// vendor/product/version at most 63/63/31 bytes after header escaping, and
// extension keys of ASCII letters only (so "env2" is refused). Empty when valid.
std::optional<std::string> config_error(const EncoderConfig& cfg);

// DKP's CEF step (§10.3) on an event object: cef := {} if missing (a non-object
// cef becomes {} too), default name and severity, the case-sensitive severity words.
void apply_cef_step(nlohmann::json& event);

enum class EncodeError { severity_invalid, name_too_long };

// One CEF line (no trailing LF) into `out` (cleared first), or why Vector drops
// the event. Name and extension values get String::from_utf8_lossy first.
std::optional<EncodeError> encode(const nlohmann::json& event, const EncoderConfig& cfg, std::string& out);

}  // namespace kumasim::formats::cef
