// The normalizer: one frame in, what kumasim records of it out: the decoded
// fields (or the error with its byte offset), the KUMA view, and the lints.
// It is the step a KUMA collector runs after its connector; `kumasim decode`
// prints its result and the simulator stores it.
#pragma once

#include "formats/cef.h"
#include "formats/decode_error.h"
#include "formats/json.h"
#include "formats/kuma_view.h"
#include "formats/lint.h"
#include "formats/syslog.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kumasim::formats {

enum class Codec : std::uint8_t {
  json,
  cef,
  syslog,   // RFC 5424 or RFC 3164, detected per event
  rfc5424,
  rfc3164,
  syslog_cef,  // KUMA's "Syslog-CEF" normalizer: CEF behind a syslog header (§5.3)
  raw,      // no parsing: the frame is the message
  automatic,  // detected per event: JSON, CEF, syslog, else raw
};

std::optional<Codec> codec_from_name(std::string_view name);  // "json", "syslog-cef", ..., "auto"
std::string_view to_string(Codec codec);

struct NormalizerOptions {
  Codec codec = Codec::automatic;
  // Syslog: accept what DKP sends (kuma-receiver.md §6.1-6.2) instead of the
  // strict ABNF. The KUMA view and lints always come from the lenient parse.
  bool lenient = false;
  // JSON: the mapping table and parse_nested of KUMA's JSON normalizer (§4.3).
  json::JsonNormalizerConfig json;
};

// What the normalizer remembers between frames of one connection.
struct StreamState {
  bool previous_was_cef = false;  // for frame-not-cef "continuation-suspected"
};

struct Normalized {
  Codec format = Codec::raw;          // the codec that decoded the frame (after detection)
  std::optional<DecodeError> error;   // empty when the frame decoded
  nlohmann::json fields;              // decoded fields; null when nothing could be read
  nlohmann::json audit;               // JSON: the audit record inside `message`, when it is one
  KumaEvent kuma;                     // what KUMA's normalizer would produce
  Lints lints;                        // format lints (frame lints are added by add_frame_lints)
  bool ok() const { return !error.has_value(); }
};

// Limits of the KUMA connectors and collector.
inline constexpr std::uint64_t kKumaMaxEventSize = 4 * 1024 * 1024;  // 4 MB (§3)
inline constexpr std::uint64_t kKumaTcpBuffer = 1024 * 1024;         // 1 MB (§2.1)
inline constexpr std::uint64_t kKumaUdpBuffer = 16 * 1024;           // 16 KB (§2.2)

class Normalizer {
 public:
  // verdict: ok/format/error and lints only, the receiver's per-frame path;
  // full: also the decoded fields, audit record and KUMA view.
  enum class Detail : std::uint8_t { verdict, full };

  explicit Normalizer(NormalizerOptions options = {});
  // A frame over KUMA's 4 MB limit fails unread (KUMA loses it, §3).
  Normalized normalize(std::string_view frame, StreamState& state, Detail detail = Detail::full);

 private:
  Codec detect(std::string_view frame) const;
  void decode_json(std::string_view frame, Normalized& out);
  void decode_cef(std::string_view frame, StreamState& state, Normalized& out);
  // Returns whether KUMA's (lenient) syslog normalizer reads the frame.
  bool decode_syslog(std::string_view frame, Codec codec, Normalized& out);
  void decode_raw(std::string_view frame, Normalized& out);

  NormalizerOptions options_;
  bool full_ = true;  // the Detail of the normalize() call under way
  json::EnvelopeDecoder json_decoder_;
  cef::Event cef_event_;
  syslog::Message syslog_message_;
  syslog::Message lenient_message_;
};

// Where a frame came from, for the lints that depend on the transport.
enum class Transport : std::uint8_t { none, tcp, udp, tls, kafka };

struct FrameContext {
  Transport transport = Transport::none;
  std::uint64_t size = 0;           // the frame's full size (an oversize frame is cut)
  std::uint64_t buffer_size = 0;    // the KUMA connector buffer; 0 = the connector's default
  bool delimiter_framing = true;    // KUMA framing (no octet counting)
  bool unterminated = false;        // the stream ended inside this frame
};

// Frame lints (§8): tls-mismatch (a TLS handshake on a plain transport),
// trailing-cr, non-utf8, octet-counting-unsupported, event-over-4mb,
// tcp-frame-over-buffer, udp-over-kuma-buffer, frame-unterminated. Plain text
// on a TLS listener and tls-ip-url are the listeners' to report.
void add_frame_lints(std::string_view frame, const FrameContext& context, Lints& out);

}  // namespace kumasim::formats
