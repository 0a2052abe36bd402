// Turns the frames of one connection (or the datagrams of one UDP socket)
// into ReceivedEvents: verdict, lints and counters per frame, and one store
// append per read rather than per frame.
#pragma once

#include "formats/framing.h"
#include "formats/normalizer.h"
#include "simulator/event_store.h"
#include "simulator/listener_config.h"
#include "simulator/listener_stats.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kumasim::sim {

// What a listener shares with its sessions.
struct ListenerContext {
  ListenerContext(ListenerConfig c, std::shared_ptr<const ListenerInfo> i, EventStore& s)
      : config(std::move(c)), info(std::move(i)), store(s) {}

  ListenerConfig config;
  std::shared_ptr<const ListenerInfo> info;
  ListenerStats stats;
  EventStore& store;
};

class FrameRecorder {
 public:
  FrameRecorder(ListenerContext& listener, std::string peer);

  // A frame from the connection's framer.
  void record(const formats::Frame& frame);
  // One whole UDP datagram: one event, or one per delimited part.
  void record_datagram(std::string_view datagram);
  // One Kafka message value (§2.3): one event "kafka-message", or one per
  // delimited part; every event keeps the message's metadata.
  void record_message(std::string_view value, const KafkaRecord& record);
  // Appends what was recorded since the last flush to the store.
  void flush();

 private:
  // How the bytes of one event were read.
  struct Reading {
    std::string_view delimited;                   // "lf", "octet-count", "datagram", ...
    std::optional<std::size_t> kuma_bytes;        // how many KUMA reads; nullopt: all
    std::optional<formats::DecodeError> framing_error;
  };

  void record_empty();
  // One event per unit (datagram, message), or one per part when a delimiter is set.
  void record_unit(std::string_view unit, const formats::FrameContext& context, std::string_view whole,
                   const std::function<std::optional<std::size_t>(std::size_t, std::size_t)>& visible);
  void record_bytes(std::string_view bytes, std::uint64_t size, const formats::FrameContext& context,
                    const Reading& reading);
  formats::Normalized judge(std::string_view bytes, const ReceivedEvent& event, const Reading& reading);
  void count(const ReceivedEvent& event);

  ListenerContext& listener_;
  std::string peer_;
  formats::Normalizer normalizer_;
  formats::StreamState state_;
  bool empty_linted_ = false;  // empty-frame is reported once per connection
  std::vector<ReceivedEvent> batch_;
  const KafkaRecord* kafka_ = nullptr;  // the message being recorded, if any
};

// Nanoseconds since the epoch, UTC.
std::int64_t now_ns();

}  // namespace kumasim::sim
