// Syslog codec (kuma-receiver.md §4.4, §6; dkp-log-shipper.md §10.4).
//
// Decoding: RFC 5424 (strict, or lenient as KUMA would read it), RFC 3164 with
// the common variants, and auto-detection between the two. A decoded Message
// holds views into the input; it must not outlive the input buffer. Messages
// are reusable: parse() resets them but keeps the capacity of their vectors,
// so a parse allocates nothing once those vectors have grown.
//
// Encoding: the DKP log-shipper Syslog line, and a plain RFC 5424 encoder
// (used for round-trip tests and by tools that need a valid line).
#pragma once

#include "formats/decode_error.h"
#include "formats/kuma_view.h"
#include "formats/lint.h"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kumasim::formats::syslog {

enum class Mode { strict, lenient };
enum class Flavor { rfc5424, rfc3164 };

// The reason codes of lint syslog-not-rfc5424 (kuma-receiver.md §6.1), in spec order.
enum class Reason : std::uint8_t {
  no_pri,
  bad_pri,
  bad_version,
  bad_timestamp,
  empty_field,
  field_too_long,
  non_printusascii,
  bad_structured_data,
  duplicate_sd_id,
  bad_utf8_after_bom,
  looks_rfc3164,
};
inline constexpr std::size_t kReasonCount = static_cast<std::size_t>(Reason::looks_rfc3164) + 1;

// "no-pri", "bad-pri", ... as written in the spec.
std::string_view reason_code(Reason r);

// What the lenient RFC 5424 parse accepted beyond the grammar.
enum class Leniency : std::uint8_t {
  secfrac_over_6,                 // TIME-SECFRAC of 7-9 digits (also recorded by a strict parse that fails on it)
  labels_between_app_and_procid,  // DKP label tokens skipped after APP-NAME (§6.2)
  empty_field_as_nil,             // an empty header field or SD read as NILVALUE
};

// An SD-PARAM or a DKP label. `value` is the raw text between the quotes;
// when `escaped` is set it holds a backslash and must go through
// unescape_param() to get the value.
struct Param {
  std::string_view name;
  std::string_view value;
  bool escaped = false;
};

// An SD-ELEMENT: its SD-ID and its params, Message::params[first, first + count).
struct Element {
  std::string_view id;
  std::uint32_t first = 0;
  std::uint32_t count = 0;
};

struct Message {
  Flavor flavor = Flavor::rfc5424;
  std::optional<int> pri, facility, severity, version;
  // Absent or NILVALUE "-" => nullopt. `timestamp` is the text as sent
  // (RFC 3164: "Mmm dd hh:mm:ss", with the year when one follows).
  std::optional<std::string_view> timestamp, hostname, app_name, procid, msgid;
  std::optional<std::string_view> msg;  // without the BOM
  bool bom = false;                     // MSG started with EF BB BF
  std::vector<Element> sd;              // empty => STRUCTURED-DATA absent or "-"
  std::vector<Param> params;            // the SD-PARAMs of every element, in order
  std::vector<Param> labels;            // DKP labels consumed between APP-NAME and PROCID
  int secfrac_digits = 0;               // digits of TIME-SECFRAC (0 when none)
  std::uint16_t violations = 0;         // bit per Reason
  std::uint8_t leniencies = 0;          // bit per Leniency

  bool has(Reason r) const { return violations & (1u << static_cast<unsigned>(r)); }
  bool used(Leniency l) const { return leniencies & (1u << static_cast<unsigned>(l)); }
  void note(Reason r) { violations |= static_cast<std::uint16_t>(1u << static_cast<unsigned>(r)); }
  void note(Leniency l) { leniencies |= static_cast<std::uint8_t>(1u << static_cast<unsigned>(l)); }
  std::span<const Param> params_of(const Element& e) const { return {params.data() + e.first, e.count}; }
  // Clears every field, keeping the vectors' capacity.
  void reset();
};

// The value of a PARAM-VALUE: \" \\ \] lose their backslash; a backslash
// before any other character is kept literally.
std::string unescape_param(std::string_view raw);
inline std::string param_value(const Param& p) { return p.escaped ? unescape_param(p.value) : std::string(p.value); }

// Strict: the full RFC 5424 ABNF; fails at the first violation.
// Lenient: the KUMA view (§6.1 "Lenient parse", §6.2); records each violation
// and leniency in `out` and fails only when the message cannot be read.
// In both modes the reason of a failure is recorded in `out` before returning.
DecodeResult parse_rfc5424(std::string_view in, Mode mode, Message& out);

// RFC 3164 and the variants of §6.3. Never fails: a message without a valid
// PRI or TIMESTAMP is read as a relay would (RFC 3164 §4.3): PRI 13 when the
// PRI is missing or invalid, and the unparsed rest as MSG.
DecodeResult parse_rfc3164(std::string_view in, Message& out);

// Auto-detection (§6.3): "<" PRIVAL ">" followed by 1*DIGIT SP is RFC 5424,
// anything else RFC 3164. In strict mode an RFC 3164 message is still decoded
// into `out`, but the call fails (reason looks-rfc3164, no-pri or bad-pri).
DecodeResult parse(std::string_view in, Mode mode, Message& out);
bool looks_like_rfc5424(std::string_view in);

// Decode-output fields: pri, facility, severity, version, timestamp, hostname,
// app_name, procid, msgid, structured_data ({SD-ID: {param: value}} or null), msg,
// and nothing else: labels consumed by the lenient parse are in Message::labels
// and the KUMA view's Extra["label.<name>"].
nlohmann::json fields_json(const Message& m);

// The KUMA normalized event of §4.4 (Syslog-CEF merging is the normalizer's job).
KumaEvent kuma_view(const Message& m);

// syslog-secfrac-over-6, syslog-not-rfc5424 (one per reason, detail = reason
// code), syslog-labels-between-app-and-procid (detail = label names, comma-separated).
void add_lints(const Message& m, Lints& out);

// DKP log-shipper Syslog encoder (dkp-log-shipper.md §10.4). `event` is the
// shipper's event (an object); `node_name` the fallback HOSTNAME. The line has
// no framing LF. When the shipper's VRL program would fail, `line` is the Text
// codec output of the unmodified event (the raw `message`) and `fell_back` is set.
struct Encoded {
  std::string line;
  bool fell_back = false;
};
Encoded encode_dkp(const nlohmann::json& event, std::string_view node_name);

// A plain RFC 5424 line from `m` (nullopt fields => "-", PRI from pri or
// facility*8+severity, VERSION 1 by default). Params with `escaped` unset
// hold plain values and get " \ ] escaped. No validation is done.
std::string encode_rfc5424(const Message& m);

}  // namespace kumasim::formats::syslog
