// What the simulator keeps of every frame, in memory up to a byte bound, and
// optionally appended to a capture file. The per-frame record is compact: the
// raw bytes, the verdict and the lints; the decoded fields and the KUMA view
// are rebuilt from the raw bytes when someone asks (render_event), so the
// receiving path pays only for decoding.
#pragma once

#include "formats/normalizer.h"

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace kumasim::sim {

// What an event needs to know of the listener that received it.
struct ListenerInfo {
  std::string name;
  formats::Transport transport = formats::Transport::tcp;
  formats::NormalizerOptions options;
};

// Where a Kafka message came from (§2.3): KUMA records the key, headers and
// timestamp but does not normalize them.
struct KafkaRecord {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::string> key;           // raw bytes; nullopt: no key
  std::optional<std::int64_t> timestamp_ms;  // nullopt: the message has none
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;  // in order; a value may be null

  std::size_t footprint() const;  // heap bytes held (the struct itself is in ReceivedEvent)
};

struct ReceivedEvent {
  std::uint64_t id = 0;  // assigned by the store, from 1
  std::shared_ptr<const ListenerInfo> listener;
  std::string peer;              // "127.0.0.1:40312"
  std::int64_t received_ns = 0;  // UTC
  std::uint64_t size = 0;        // bytes the event occupied on the wire
  std::string raw;               // the bytes kept: all of them unless `truncated`
  bool truncated = false;
  // How the event ended: "lf", "tab", "nul", "octet-count", "end-of-stream", "datagram", "kafka-message".
  std::string_view delimited;
  std::optional<std::size_t> kuma_bytes;  // how many of the bytes KUMA reads (UDP: its buffer); nullopt: all
  bool ok = true;
  formats::Codec format = formats::Codec::raw;
  std::optional<formats::DecodeError> error;
  formats::Lints lints;
  std::optional<KafkaRecord> kafka;  // Kafka listeners only

  std::size_t footprint() const;  // bytes held in memory, for the store's bound
};

struct EventQuery {
  std::string listener;         // empty: every listener
  std::uint64_t since = 0;      // events with id > since
  std::size_t limit = 1000;
  std::optional<bool> ok;
  // A page also ends once it holds this many raw bytes (at least one event),
  // so that one request cannot copy the whole store.
  std::size_t max_bytes = 16 * 1024 * 1024;
};

struct StoreStats {
  std::uint64_t events = 0, bytes = 0, evicted = 0, last_id = 0;
};

class EventStore {
 public:
  // `capture_path` empty: no capture file.
  explicit EventStore(std::uint64_t max_bytes, const std::string& capture_path = {});
  ~EventStore();
  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Takes every event of `batch` (one lock per batch, not per event), assigns
  // ids, appends to the capture, evicts the oldest beyond the bound.
  void append(std::vector<ReceivedEvent>& batch);
  // Copies of the matching events, oldest first.
  std::vector<ReceivedEvent> find(const EventQuery& query) const;
  void clear();
  StoreStats stats() const;
  void flush_capture();

  // For a reader that must see every event (the scenario runner): from now
  // on append() waits while the events the reader has not seen hold more
  // than the bound, instead of evicting them. The listeners then stop
  // reading, and senders feel the back-pressure of a slow KUMA; only events
  // already seen are evicted. reader_at() says how far the reader got;
  // release() ends every wait for good (before the listeners stop).
  void follow_reader();
  void reader_at(std::uint64_t id);
  void release();
  // While paused, append() does not wait (the reader is busy with something
  // the listeners must do first, such as applying a fault): the store goes
  // over its bound for that while rather than evict what was not read.
  void pause_reader(bool paused);

 private:
  mutable std::mutex mutex_;
  std::condition_variable room_;
  bool follow_ = false, released_ = false, paused_ = false;
  std::uint64_t reader_id_ = 0, unread_bytes_ = 0;
  std::deque<ReceivedEvent> events_;
  std::uint64_t max_bytes_;
  StoreStats stats_;
  std::FILE* capture_ = nullptr;
};

// The full view of an event (docs/api.md): metadata, raw bytes (base64 when
// not UTF-8), verdict, decoded fields, KUMA view and lints. One renderer keeps
// a normalizer per listener, so render many events with one renderer.
class EventRenderer {
 public:
  nlohmann::json operator()(const ReceivedEvent& event);

 private:
  std::map<const ListenerInfo*, formats::Normalizer> normalizers_;
};

// The compact record written to the capture file (no decoded view).
nlohmann::json capture_record(const ReceivedEvent& event);

}  // namespace kumasim::sim
