#include "formats/normalizer.h"
#include "formats/utf8.h"

#include <algorithm>
#include <array>
#include <utility>

namespace kumasim::formats {
namespace {

constexpr std::array<std::pair<std::string_view, Codec>, 8> kCodecNames{{
    {"json", Codec::json},
    {"cef", Codec::cef},
    {"syslog", Codec::syslog},
    {"rfc5424", Codec::rfc5424},
    {"rfc3164", Codec::rfc3164},
    {"syslog-cef", Codec::syslog_cef},
    {"raw", Codec::raw},
    {"auto", Codec::automatic},
}};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// `^[1-9][0-9]{0,8} <[0-9]{1,3}>`: an RFC 6587 MSG-LEN before a syslog PRI.
bool starts_with_octet_count(std::string_view frame) {
  std::size_t i = 0;
  if (frame.empty() || frame[0] < '1' || frame[0] > '9') return false;
  while (i < frame.size() && i < 9 && is_digit(frame[i])) ++i;
  if (i + 1 >= frame.size() || frame[i] != ' ' || frame[i + 1] != '<') return false;
  std::size_t digits = 0;
  for (i += 2; i < frame.size() && is_digit(frame[i]) && digits < 3; ++i) ++digits;
  return digits > 0 && i < frame.size() && frame[i] == '>';
}

// Whether `prefix`, the start of `frame`, is a syslog header whose MSG is the
// rest of the frame. Without a PRI it is not: a relay treats such text as content.
bool is_syslog_header(std::string_view frame, std::string_view prefix, syslog::Message& message) {
  if (syslog::parse(frame, syslog::Mode::lenient, message)) return false;
  if (message.has(syslog::Reason::no_pri) || message.has(syslog::Reason::bad_pri)) return false;
  return message.msg && message.msg->data() == frame.data() + prefix.size();
}

// looks-rfc3164 is for a 5424-only listener (§6.3); one that takes both formats reads RFC 3164 fine.
void drop_looks_rfc3164(Lints& lints) {
  const Lint looks{LintId::syslog_not_rfc5424, std::string(syslog::reason_code(syslog::Reason::looks_rfc3164))};
  std::erase(lints, looks);
}

// RFC 3164 reads anything as a relay would (PRI <13> when it has none); the
// strict mode insists on a valid PRI.
DecodeResult parse_rfc3164(std::string_view frame, syslog::Mode mode, syslog::Message& message) {
  auto result = syslog::parse_rfc3164(frame, message);
  if (!result && mode == syslog::Mode::strict &&
      (message.has(syslog::Reason::no_pri) || message.has(syslog::Reason::bad_pri))) {
    result = DecodeError{0, "no valid PRI (a relay would treat the whole message as content)"};
  }
  return result;
}

// Syslog-CEF (§4.4): the CEF payload of a syslog message takes precedence over
// the syslog fields. MSG was that payload, so it is no Message of its own, and
// the prefix that the CEF view kept is the syslog header read here.
KumaEvent merge_syslog_cef(KumaEvent syslog_view, KumaEvent cef_view) {
  syslog_view.fields.erase("Message");
  cef_view.extra.erase("cefPrefix");
  for (auto& [name, value] : cef_view.fields) syslog_view.fields[name] = std::move(value);
  for (auto& [name, value] : cef_view.extra) syslog_view.extra[name] = std::move(value);
  return syslog_view;
}

std::string lossy(std::string_view text) {
  std::string out;
  utf8::append_lossy(text, out);
  return out;
}

}  // namespace

std::optional<Codec> codec_from_name(std::string_view name) {
  for (const auto& [text, codec] : kCodecNames) {
    if (text == name) return codec;
  }
  return std::nullopt;
}

std::string_view to_string(Codec codec) {
  for (const auto& [text, value] : kCodecNames) {
    if (value == codec) return text;
  }
  return "?";
}

Normalizer::Normalizer(NormalizerOptions options) : options_(std::move(options)) {}

Normalized Normalizer::normalize(std::string_view frame, StreamState& state, Detail detail) {
  full_ = detail == Detail::full;
  Normalized out;
  out.format = options_.codec == Codec::automatic ? detect(frame) : options_.codec;
  if (frame.size() > kKumaMaxEventSize) {  // lost to KUMA, counted, not normalized (§3)
    out.error = DecodeError{kKumaMaxEventSize, "event exceeds KUMA's 4 MB limit; not normalized"};
    return out;
  }
  bool kuma_failed = false;  // KUMA's normalizer fails: Keep raw event "only errors" keeps Raw (§3)
  switch (out.format) {
    case Codec::json: decode_json(frame, out); kuma_failed = out.error.has_value(); break;
    case Codec::cef:
    case Codec::syslog_cef: decode_cef(frame, state, out); kuma_failed = out.error.has_value(); break;
    case Codec::syslog:
    case Codec::rfc5424:
    case Codec::rfc3164: kuma_failed = !decode_syslog(frame, out.format, out); break;  // KUMA reads leniently
    case Codec::raw:
    case Codec::automatic: decode_raw(frame, out); break;
  }
  if (out.format != Codec::cef && out.format != Codec::syslog_cef) state.previous_was_cef = false;
  if (kuma_failed && full_) out.kuma.raw = lossy(frame);
  return out;
}

Codec Normalizer::detect(std::string_view frame) const {
  const std::size_t first = frame.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && (frame[first] == '{' || frame[first] == '[')) return Codec::json;
  if (frame.find("CEF:") != std::string_view::npos) return Codec::cef;
  if (!frame.empty() && frame[0] == '<') return Codec::syslog;
  return Codec::raw;
}

void Normalizer::decode_json(std::string_view frame, Normalized& out) {
  json::Envelope envelope;
  if (auto err = json_decoder_.decode(frame, envelope)) {
    out.error = err;
    out.lints.push_back({LintId::json_not_object, std::string(err->reason)});  // anything but an object (§4.3)
    return;
  }
  if (!full_) return;
  out.fields = nlohmann::json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (envelope.message_is_object) out.audit = nlohmann::json::parse(envelope.message, nullptr, false);
  out.kuma = json::kuma_view(out.fields, options_.json);
}

void Normalizer::decode_cef(std::string_view frame, StreamState& state, Normalized& out) {
  out.error = cef::decode(frame, cef_event_);
  if (!cef_event_.found_cef) {
    out.lints.push_back({LintId::frame_not_cef, state.previous_was_cef ? "continuation-suspected" : ""});
    state.previous_was_cef = false;
    return;
  }
  state.previous_was_cef = true;
  if (full_) {
    out.fields = cef::fields_json(cef_event_);
    out.kuma = cef::kuma_view(cef_event_);
  }
  cef::add_lints(cef_event_, out.lints);
  const bool syslog_cef = out.format == Codec::syslog_cef;
  if (cef_event_.prefix.empty()) {
    if (syslog_cef) out.lints.push_back({LintId::cef_syslog_header_missing, {}});
    return;
  }
  if (!syslog_cef) out.lints.push_back({LintId::cef_unexpected_prefix, {}});
  // The prefix is read as a syslog header when it is one (§5.6 step 1).
  if (full_ && is_syslog_header(frame, cef_event_.prefix, lenient_message_)) {
    out.kuma = merge_syslog_cef(syslog::kuma_view(lenient_message_), std::move(out.kuma));
  }
}

bool Normalizer::decode_syslog(std::string_view frame, Codec codec, Normalized& out) {
  const auto mode = options_.lenient ? syslog::Mode::lenient : syslog::Mode::strict;
  const bool accepts_only_rfc5424 = codec == Codec::rfc5424;
  if (codec == Codec::syslog) codec = syslog::looks_like_rfc5424(frame) ? Codec::rfc5424 : Codec::rfc3164;
  out.format = codec;
  out.error = codec == Codec::rfc5424 ? syslog::parse_rfc5424(frame, mode, syslog_message_)
                                      : parse_rfc3164(frame, mode, syslog_message_);
  if (full_) out.fields = syslog::fields_json(syslog_message_);  // what was read, also before a strict failure
  // KUMA's view is always the lenient parse; its lints name every strict violation.
  // A lenient parse of the same flavour has just been made: it is reused.
  const bool reuse = mode == syslog::Mode::lenient && (codec == Codec::rfc5424) == syslog::looks_like_rfc5424(frame);
  const bool read = reuse ? !out.error : !syslog::parse(frame, syslog::Mode::lenient, lenient_message_);
  const syslog::Message& kuma_message = reuse ? syslog_message_ : lenient_message_;
  syslog::add_lints(kuma_message, out.lints);
  if (!accepts_only_rfc5424) drop_looks_rfc3164(out.lints);
  if (!read) return false;
  if (full_) out.kuma = syslog::kuma_view(kuma_message);
  const auto msg = kuma_message.msg;
  if (!msg || msg->find("CEF:") == std::string_view::npos) return true;
  (void)cef::decode(*msg, cef_event_);  // views into `frame`, like the message's
  if (full_) out.kuma = merge_syslog_cef(std::move(out.kuma), cef::kuma_view(cef_event_));
  cef::add_lints(cef_event_, out.lints);
  return true;
}

void Normalizer::decode_raw(std::string_view frame, Normalized& out) {
  if (!full_) return;
  out.fields = nlohmann::json::object({{"message", lossy(frame)}});
  out.kuma.fields["Message"] = lossy(frame);
}

void add_frame_lints(std::string_view frame, const FrameContext& context, Lints& out) {
  // A TLS record header (handshake, version 3.x) where plain text was expected (§2.1).
  if (context.transport != Transport::tls && frame.starts_with("\x16\x03")) {
    out.push_back({LintId::tls_mismatch, "TLS handshake on a plain listener"});
  }
  if (!frame.empty() && frame.back() == '\r') out.push_back({LintId::trailing_cr, {}});
  if (!utf8::is_valid(frame)) {
    out.push_back({LintId::non_utf8, "at byte " + std::to_string(utf8::valid_prefix(frame))});
  }
  if (context.delimiter_framing && starts_with_octet_count(frame)) {
    out.push_back({LintId::octet_counting_unsupported, {}});
  }
  if (context.size > kKumaMaxEventSize) out.push_back({LintId::event_over_4mb, std::to_string(context.size)});
  if (context.transport == Transport::tcp || context.transport == Transport::tls) {
    const std::uint64_t buffer = context.buffer_size ? context.buffer_size : kKumaTcpBuffer;
    if (context.size > buffer) out.push_back({LintId::tcp_frame_over_buffer, std::to_string(context.size)});
  }
  if (context.transport == Transport::udp) {
    const std::uint64_t buffer = context.buffer_size ? context.buffer_size : kKumaUdpBuffer;
    if (context.size > buffer) out.push_back({LintId::udp_over_kuma_buffer, std::to_string(context.size)});
  }
  if (context.unterminated) out.push_back({LintId::frame_unterminated, {}});
}

}  // namespace kumasim::formats
