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

nlohmann::json stats_json(const ListenerStats& s) {
  auto get = [](const ListenerStats::Counter& c) { return c.load(std::memory_order_relaxed); };
  nlohmann::json lints = nlohmann::json::object();
  for (std::size_t i = 0; i < s.lints.size(); ++i) {
    if (const auto n = get(s.lints[i])) lints[std::string(lint_info(static_cast<LintId>(i)).name)] = n;
  }
  return {{"frames", get(s.frames)},
          {"bytes", get(s.bytes)},
          {"decode_errors", get(s.decode_errors)},
          {"truncations", get(s.truncations)},
          {"lost_oversize", get(s.oversize)},
          {"empty_frames", get(s.empty_frames)},
          {"connections", get(s.connections)},
          {"open_connections", get(s.open_connections)},
          {"tls_failures", get(s.tls_failures)},
          {"udp_kernel_drops", get(s.udp_kernel_drops)},
          {"tls_failure_reasons", s.tls_failure_reasons()},
          {"lints", std::move(lints)}};
}

FrameRecorder::FrameRecorder(ListenerContext& listener, std::string peer)
    : listener_(listener), peer_(std::move(peer)), normalizer_(listener.info->options) {}

void FrameRecorder::record(const Frame& frame) {
  auto& stats = listener_.stats;
  ListenerStats::bump(stats.bytes, frame.size + (frame.unterminated ? 0 : 1));
  if (frame.status == FrameStatus::empty) {
    ListenerStats::bump(stats.empty_frames);
    if (empty_linted_) return;
    empty_linted_ = true;
    ListenerStats::bump(stats.lints[static_cast<std::size_t>(LintId::empty_frame)]);
    return;
  }
  const FrameContext context{listener_.info->transport, frame.size, listener_.config.buffer_size(),
                             listener_.config.framing == FramingMode::delimiter, frame.unterminated};
  record_bytes(frame.bytes, frame.size, context, 0);
}

void FrameRecorder::record_datagram(std::string_view bytes, std::uint64_t size) {
  ListenerStats::bump(listener_.stats.bytes, size);
  const std::uint64_t buffer = listener_.config.buffer_size();
  // KUMA reads a datagram into its buffer: it sees only the first `buffer` bytes (§2.2).
  const std::size_t kuma_bytes = size > buffer ? static_cast<std::size_t>(buffer) : 0;
  record_bytes(bytes, size, {Transport::udp, size, buffer, true, false}, kuma_bytes);
}

void FrameRecorder::record_bytes(std::string_view bytes, std::uint64_t size, const FrameContext& context,
                                 std::size_t kuma_bytes) {
  auto& stats = listener_.stats;
  ReceivedEvent event;
  event.listener = listener_.info;
  event.peer = peer_;
  event.received_ns = now_ns();
  event.size = size;
  event.raw.assign(bytes.data(), bytes.size());
  event.truncated = bytes.size() < size;
  event.kuma_bytes = kuma_bytes;
  const std::string_view seen = kuma_bytes ? bytes.substr(0, kuma_bytes) : bytes;
  Normalized verdict;
  if (event.truncated && !kuma_bytes) {
    verdict.error = DecodeError{bytes.size(), "frame cut at the listener's limit"};  // only its start was kept
  } else {
    verdict = normalizer_.normalize(seen, state_, Normalizer::Detail::verdict);
  }
  add_frame_lints(bytes, context, verdict.lints);
  event.ok = verdict.ok();
  event.format = verdict.format;
  event.error = verdict.error;
  event.lints = std::move(verdict.lints);

  ListenerStats::bump(stats.frames);
  if (!event.ok) ListenerStats::bump(stats.decode_errors);
  if (event.truncated || kuma_bytes) ListenerStats::bump(stats.truncations);
  if (size > kKumaMaxEventSize) ListenerStats::bump(stats.oversize);
  for (const auto& lint : event.lints) ListenerStats::bump(stats.lints[static_cast<std::size_t>(lint.id)]);
  batch_.push_back(std::move(event));
}

void FrameRecorder::flush() {
  if (!batch_.empty()) listener_.store.append(batch_);
}

}  // namespace kumasim::sim
