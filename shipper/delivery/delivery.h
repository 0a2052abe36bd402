// Delivery to one destination (dkp-log-shipper.md §9, §11): its buffer
// (Memory maxEvents or Disk maxSize; Block or DropNewest) and a sender thread
// that writes to the transport (TCP, TLS, UDP, Kafka, or stdout) and
// reconnects with exponential back-off.
#pragma once

#include "shipper/manifest/manifest.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace kumasim::shipper {

// One encoded event ready for the wire: the payload without framing (the TCP
// sink adds LF, or NUL when the destination's codec is GELF), the Kafka key
// and rendered topic.
struct Message {
  std::string payload;
  std::optional<std::string> key;  // Kafka only
  std::string topic;               // Kafka only
  std::uint64_t sequence = 0;      // the reader's line number, for checkpoints
};

// Monotonic totals. `sent`: messages whose delivery is confirmed (acknowledged
// by the peer's TCP, handed to a UDP socket, reported by Kafka, written to
// stdout), each counted once; `sent_bytes`: their bytes on the wire, framing
// included. `retried`: messages put back in the queue to be sent again: their
// connection broke before the peer acknowledged them, or Kafka reported a
// transient failure (a timeout while the brokers were away). `dropped_send`:
// messages given up on: a UDP send or stdout write that failed, a Kafka
// message refused for good (too large, or its topic missing or not authorized).
// `blocked_pushes`: push() calls that had to wait for room (Block).
// `dropped_buffer_error`: messages a disk buffer could not store (a full or
// failing disk).
struct DeliveryCounters {
  std::atomic<std::uint64_t> queued{0}, sent{0}, sent_bytes{0}, retried{0}, dropped_buffer_full{0}, dropped_send{0},
      connects{0}, connect_failures{0}, blocked_pushes{0}, dropped_buffer_error{0};
};

struct DeliveryOptions {
  std::string data_dir;             // disk buffers live in data_dir/buffer/<destination>
  bool to_stdout = false;           // write the wire bytes to stdout (UDP datagrams get an LF after each)
  int stdout_fd = 1;
  std::function<void(const std::string&)> log;  // connection errors, once per state change
  // For tests only: replaces librdkafka's message.timeout.ms, which DKP fixes
  // at 300000 (§3.5), so that a test sees messages time out within seconds.
  std::optional<std::chrono::milliseconds> kafka_message_timeout;
};

class Delivery {
 public:
  // Opens the buffer (a disk buffer resumes what an earlier run left) and
  // starts the sender thread. Throws std::runtime_error naming the
  // destination and the reason: bad TLS material, a setting librdkafka
  // rejects, a disk buffer directory that cannot be used.
  static std::unique_ptr<Delivery> start(const Destination& destination, DeliveryOptions options);
  virtual ~Delivery() = default;

  // Enqueues; with Block waits while the buffer is full (returns false only
  // when stop() was called); with DropNewest drops and counts when full.
  virtual bool push(Message message) = 0;
  // Every message with sequence < the result is done: acknowledged by the
  // peer (TCP), sent (UDP, stdout), reported delivered (Kafka), stored in a
  // disk buffer, or dropped and counted. Monotonic; pushes must come in
  // increasing sequence order.
  virtual std::uint64_t done_below() const = 0;
  // Waits until the buffer is empty and nothing is in flight (for TCP: the
  // peer has acknowledged everything), or the timeout passes; true in the first case.
  virtual bool drain(std::chrono::milliseconds timeout) = 0;
  // Stops the sender promptly, even while the peer is down, and releases
  // blocked pushes. What is not done stays in a disk buffer for the next run;
  // a memory buffer loses it. Idempotent; the destructor calls it.
  virtual void stop() = 0;
  virtual const DeliveryCounters& counters() const = 0;
};

}  // namespace kumasim::shipper
