#include "simulator/event_store.h"

#include "formats/utf8.h"
#include "formats/base64.h"
#include "simulator/listener_config.h"

#include <algorithm>
#include <stdexcept>
#include <system_error>

namespace kumasim::sim {
using formats::base64_encode;
namespace {

nlohmann::json lints_json(const formats::Lints& lints) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& lint : lints) {
    const auto& info = formats::lint_info(lint.id);
    nlohmann::json entry{{"id", info.name}, {"level", formats::to_string(info.level)}};
    if (!lint.detail.empty()) entry["detail"] = lint.detail;
    list.push_back(std::move(entry));
  }
  return list;
}

// Raw bytes in JSON: as text when valid UTF-8, else base64 under another key.
void put_raw(const std::string& raw, nlohmann::json& out) {
  if (formats::utf8::is_valid(raw)) out["raw"] = raw;
  else out["raw_base64"] = base64_encode(raw);
}

// Bytes that may not be text (a key, a header value): as put_raw does, under `name` or `name`_base64.
void put_bytes(const std::string& name, const std::optional<std::string>& bytes, nlohmann::json& out) {
  if (!bytes) out[name] = nullptr;
  else if (formats::utf8::is_valid(*bytes)) out[name] = *bytes;
  else out[name + "_base64"] = base64_encode(*bytes);
}

nlohmann::json kafka_json(const KafkaRecord& record) {
  nlohmann::json out{{"topic", record.topic}, {"partition", record.partition}, {"offset", record.offset}};
  out["timestamp_ms"] = record.timestamp_ms ? nlohmann::json(*record.timestamp_ms) : nlohmann::json(nullptr);
  put_bytes("key", record.key, out);
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& [name, value] : record.headers) {
    nlohmann::json header{{"name", name}};
    put_bytes("value", value, header);
    headers.push_back(std::move(header));
  }
  out["headers"] = std::move(headers);
  return out;
}

}  // namespace

std::size_t KafkaRecord::footprint() const {
  std::size_t bytes = topic.capacity() + (key ? key->capacity() : 0);
  for (const auto& [name, value] : headers) {
    bytes += sizeof name + sizeof value + name.capacity() + (value ? value->capacity() : 0);
  }
  return bytes;
}

std::size_t ReceivedEvent::footprint() const {
  std::size_t lint_bytes = 0;
  for (const auto& lint : lints) lint_bytes += sizeof lint + lint.detail.capacity();
  return sizeof *this + raw.capacity() + peer.capacity() + lint_bytes + (kafka ? kafka->footprint() : 0);
}

EventStore::EventStore(std::uint64_t max_bytes, const std::string& capture_path) : max_bytes_(max_bytes) {
  if (capture_path.empty()) return;
  capture_ = std::fopen(capture_path.c_str(), "ab");
  if (!capture_) {
    throw std::system_error(errno, std::generic_category(), "cannot open the capture file " + capture_path);
  }
}

EventStore::~EventStore() {
  if (capture_) std::fclose(capture_);
}

void EventStore::append(std::vector<ReceivedEvent>& batch) {
  std::unique_lock lock(mutex_);
  room_.wait(lock, [&] { return !follow_ || released_ || paused_ || unread_bytes_ == 0 || unread_bytes_ <= max_bytes_; });
  for (auto& event : batch) {
    event.id = ++stats_.last_id;
    if (capture_) {
      const std::string line = capture_record(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      std::fwrite(line.data(), 1, line.size(), capture_);
    }
    stats_.bytes += event.footprint();
    unread_bytes_ += follow_ ? event.footprint() : 0;
    ++stats_.events;
    events_.push_back(std::move(event));
  }
  batch.clear();
  while (stats_.bytes > max_bytes_ && !events_.empty() && (!follow_ || events_.front().id <= reader_id_)) {
    stats_.bytes -= events_.front().footprint();
    --stats_.events;
    ++stats_.evicted;
    events_.pop_front();
  }
}

std::vector<ReceivedEvent> EventStore::find(const EventQuery& query) const {
  std::lock_guard lock(mutex_);
  std::vector<ReceivedEvent> found;
  // Ids are consecutive in the deque: start right after `since`.
  auto it = std::upper_bound(events_.begin(), events_.end(), query.since,
                             [](std::uint64_t since, const ReceivedEvent& e) { return since < e.id; });
  std::size_t bytes = 0;
  for (; it != events_.end() && found.size() < query.limit && (found.empty() || bytes < query.max_bytes); ++it) {
    if (!query.listener.empty() && it->listener->name != query.listener) continue;
    if (query.ok && it->ok != *query.ok) continue;
    bytes += it->raw.size();
    found.push_back(*it);
  }
  return found;
}

void EventStore::follow_reader() {
  std::lock_guard lock(mutex_);
  follow_ = true;
  reader_id_ = stats_.last_id;
}

void EventStore::reader_at(std::uint64_t id) {
  {
    std::lock_guard lock(mutex_);
    if (!follow_ || id <= reader_id_) return;
    auto it = std::upper_bound(events_.begin(), events_.end(), reader_id_,
                               [](std::uint64_t since, const ReceivedEvent& e) { return since < e.id; });
    for (; it != events_.end() && it->id <= id; ++it) unread_bytes_ -= it->footprint();
    reader_id_ = id;
  }
  room_.notify_all();
}

void EventStore::pause_reader(bool paused) {
  {
    std::lock_guard lock(mutex_);
    paused_ = paused;
  }
  room_.notify_all();
}

void EventStore::release() {
  {
    std::lock_guard lock(mutex_);
    released_ = true;
  }
  room_.notify_all();
}

void EventStore::clear() {
  {
    std::lock_guard lock(mutex_);
    events_.clear();
    stats_.events = 0;
    stats_.bytes = 0;
    unread_bytes_ = 0;
    reader_id_ = stats_.last_id;
  }
  room_.notify_all();
}

StoreStats EventStore::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void EventStore::flush_capture() {
  std::lock_guard lock(mutex_);
  if (capture_) std::fflush(capture_);
}

nlohmann::json capture_record(const ReceivedEvent& event) {
  nlohmann::json out{{"id", event.id},
                     {"listener", event.listener->name},
                     {"transport", transport_name(event.listener->transport)},
                     {"peer", event.peer},
                     {"received_ns", event.received_ns},
                     {"size", event.size},
                     {"truncated", event.truncated},
                     {"delimited", event.delimited},
                     {"ok", event.ok},
                     {"format", formats::to_string(event.format)},
                     {"lints", lints_json(event.lints)}};
  put_raw(event.raw, out);
  if (event.kuma_bytes) out["kuma_read"] = *event.kuma_bytes;  // KUMA's UDP buffer cut the datagram here
  if (event.error) out["error"] = {{"offset", event.error->offset}, {"reason", event.error->reason}};
  if (event.kafka) out["kafka"] = kafka_json(*event.kafka);
  return out;
}

nlohmann::json EventRenderer::operator()(const ReceivedEvent& event) {
  nlohmann::json out = capture_record(event);
  if (event.truncated || event.raw.size() > formats::kKumaMaxEventSize || event.kuma_bytes == 0) {
    return out;  // KUMA never read it whole
  }
  auto [it, added] = normalizers_.try_emplace(event.listener.get(), event.listener->options);
  formats::StreamState fresh;  // stream-dependent lints were taken at receipt
  const std::string_view seen = event.kuma_bytes ? std::string_view(event.raw).substr(0, *event.kuma_bytes) : event.raw;
  const formats::Normalized view = it->second.normalize(seen, fresh);
  out["fields"] = view.fields;
  if (!view.audit.is_null()) out["audit"] = view.audit;
  out["kuma"] = formats::to_json(view.kuma);
  return out;
}

}  // namespace kumasim::sim
