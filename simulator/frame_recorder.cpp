#include "simulator/frame_recorder.h"

#include <nlohmann/json.hpp>

#include <chrono>

namespace kumasim::sim {

using namespace kumasim::formats;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void ListenerStats::tls_failed(const std::string& reason) {
  bump(tls_failures);
  std::lock_guard lock(reasons_mutex_);
  ++reasons_[reason];
}

std::map<std::string, std::uint64_t> ListenerStats::tls_failure_reasons() const {
  std::lock_guard lock(reasons_mutex_);
  return reasons_;
}

nlohmann::json stats_json(const ListenerStats& s, bool kafka) {
  auto get = [](const ListenerStats::Counter& c) { return c.load(std::memory_order_relaxed); };
  nlohmann::json lints = nlohmann::json::object();
  for (std::size_t i = 0; i < s.lints.size(); ++i) {
    if (const auto n = get(s.lints[i])) lints[std::string(lint_info(static_cast<LintId>(i)).name)] = n;
  }
  nlohmann::json out{{"frames", get(s.frames)},
                     {"bytes", get(s.bytes)},
                     {"decode_errors", get(s.decode_errors)},
                     {"truncations", get(s.truncations)},
                     {"lost_oversize", get(s.oversize)},
                     {"empty_frames", get(s.empty_frames)},
                     {"connections", get(s.connections)},
                     {"open_connections", get(s.open_connections)},
                     {"accept_errors", get(s.accept_errors)},
                     {"tls_failures", get(s.tls_failures)},
                     {"udp_kernel_drops", get(s.udp_kernel_drops)},
                     {"faults_applied", get(s.faults_applied)},
                     {"tls_failure_reasons", s.tls_failure_reasons()},
                     {"lints", std::move(lints)}};
  if (kafka) {
    out["kafka_offset_gaps"] = get(s.kafka_offset_gaps);
    out["kafka_lost_messages"] = get(s.kafka_lost_messages);
    out["kafka_errors"] = get(s.kafka_errors);
  }
  return out;
}

FrameRecorder::FrameRecorder(ListenerContext& listener, std::string peer)
    : listener_(listener), peer_(std::move(peer)), normalizer_(listener.info->options) {}

namespace {

std::string_view delimiter_name(char delimiter) {
  return delimiter == '\n' ? "lf" : delimiter == '\t' ? "tab" : "nul";
}

}  // namespace

void FrameRecorder::record(const Frame& frame) {
  if (frame.status == FrameStatus::empty) return record_empty();
  const auto& config = listener_.config;
  const FrameContext context{listener_.info->transport, frame.size, config.buffer_size(),
                             config.framing == FramingMode::delimiter, frame.unterminated};
  const std::string_view delimited = frame.unterminated   ? "end-of-stream"
                                     : frame.octet_counted ? "octet-count"
                                                           : delimiter_name(config.delimiter);
  std::optional<DecodeError> framing_error;
  if (frame.status == FrameStatus::bad_octet_count) framing_error = DecodeError{0, "octet count is not MSG-LEN SP"};
  record_bytes(frame.bytes, frame.size, context, {delimited, std::nullopt, framing_error});
}

void FrameRecorder::record_empty() {
  auto& stats = listener_.stats;
  ListenerStats::bump(stats.empty_frames);
  if (empty_linted_) return;
  empty_linted_ = true;  // the lint is once per connection (§2.1)
  ListenerStats::bump(stats.lints[static_cast<std::size_t>(LintId::empty_frame)]);
}

void FrameRecorder::record_datagram(std::string_view datagram) {
  const std::uint64_t buffer = listener_.config.buffer_size();
  const FrameContext context{Transport::udp, datagram.size(), buffer, true, false};
  // KUMA reads a datagram into its buffer and sees only its first `buffer` bytes (§2.2).
  const auto visible = [&](std::size_t from, std::size_t length) -> std::optional<std::size_t> {
    if (datagram.size() <= buffer) return std::nullopt;  // all of it
    return from >= buffer ? 0 : std::min<std::size_t>(length, buffer - from);
  };
  record_unit(datagram, context, "datagram", visible);
}

void FrameRecorder::record_message(std::string_view value, const KafkaRecord& record) {
  // An empty (or null) message split on a delimiter has no part: it is one
  // empty frame, skipped and counted as KUMA skips empty frames.
  if (value.empty() && listener_.config.udp_delimited) return record_empty();
  // KUMA fetches whole messages (16 MB by default): it reads every byte, no octet counting.
  const FrameContext context{Transport::kafka, value.size(), 0, false, false};
  kafka_ = &record;
  record_unit(value, context, "kafka-message", [](std::size_t, std::size_t) { return std::optional<std::size_t>(); });
  kafka_ = nullptr;
}

void FrameRecorder::record_unit(std::string_view unit, const FrameContext& context, std::string_view whole,
                                const std::function<std::optional<std::size_t>(std::size_t, std::size_t)>& visible) {
  if (!listener_.config.udp_delimited) {
    record_bytes(unit, unit.size(), context, {whole, visible(0, unit.size()), std::nullopt});
    return;
  }
  // Split on the delimiter; a trailing delimiter makes no empty event (§2.2).
  const std::string_view delimited = delimiter_name(listener_.config.delimiter);
  for (std::size_t from = 0; from < unit.size();) {
    const std::size_t end = std::min(unit.find(listener_.config.delimiter, from), unit.size());
    if (end == from) {
      record_empty();
    } else {
      FrameContext part = context;
      if (context.transport == Transport::kafka) part.size = end - from;  // a part is the event KUMA sees
      const std::size_t length = end - from;
      record_bytes(unit.substr(from, length), length, part, {delimited, visible(from, length), std::nullopt});
    }
    from = end + 1;
  }
}

void FrameRecorder::record_bytes(std::string_view bytes, std::uint64_t size, const FrameContext& context,
                                 const Reading& reading) {
  ReceivedEvent event;
  event.listener = listener_.info;
  event.peer = peer_;
  event.received_ns = now_ns();
  event.size = size;
  event.raw.assign(bytes.data(), bytes.size());
  event.truncated = bytes.size() < size;
  event.delimited = reading.delimited;
  event.kuma_bytes = reading.kuma_bytes;
  if (kafka_) event.kafka = *kafka_;
  Normalized verdict = judge(bytes, event, reading);
  add_frame_lints(bytes, context, verdict.lints);
  event.ok = verdict.ok();
  event.format = verdict.format;
  event.error = verdict.error;
  event.lints = std::move(verdict.lints);
  count(event);
  batch_.push_back(std::move(event));
}

// What KUMA's normalizer makes of the bytes it reads, or why it reads none.
Normalized FrameRecorder::judge(std::string_view bytes, const ReceivedEvent& event, const Reading& reading) {
  Normalized verdict;
  if (reading.framing_error) {
    verdict.error = reading.framing_error;
  } else if (event.truncated) {
    verdict.error = DecodeError{bytes.size(), "frame cut at the listener's limit"};  // only its start was kept
  } else if (reading.kuma_bytes == 0) {
    verdict.error = DecodeError{0, "beyond KUMA's UDP buffer: KUMA never reads it"};
  } else {
    const std::string_view seen = reading.kuma_bytes ? bytes.substr(0, *reading.kuma_bytes) : bytes;
    verdict = normalizer_.normalize(seen, state_, Normalizer::Detail::verdict);
  }
  return verdict;
}

void FrameRecorder::count(const ReceivedEvent& event) {
  auto& stats = listener_.stats;
  ListenerStats::bump(stats.frames);
  if (!event.ok) ListenerStats::bump(stats.decode_errors);
  if (event.truncated || event.kuma_bytes) ListenerStats::bump(stats.truncations);
  if (event.size > kKumaMaxEventSize) ListenerStats::bump(stats.oversize);
  for (const auto& lint : event.lints) {
    ListenerStats::bump(stats.lints[static_cast<std::size_t>(lint.id)]);
    // A ClientHello on a plain listener is a failed handshake too (§2.1).
    if (lint.id == LintId::tls_mismatch) stats.tls_failed("TLS handshake on a plain listener");
  }
}

void FrameRecorder::flush() {
  if (!batch_.empty()) listener_.store.append(batch_);
}

}  // namespace kumasim::sim
