// Kafka destination (dkp-log-shipper.md §3.5, §11.3) through a librdkafka
// producer: one message per event, the value without LF, the key from
// Message::key (null when absent), the topic as the pipeline rendered it, no
// headers; gzip, socket.timeout.ms=60000, message.timeout.ms=300000 and the
// librdkafka defaults for acks and partitioning.
//
// A message is done when librdkafka reports it delivered. librdkafka retries
// by itself until message.timeout.ms; a failure it reports is either
// permanent (kafka_error_permanent): the message is done, counted as
// dropped_send and logged; or transient: the message goes back to the head
// of the buffer and is sent again (`retried`), so that with Block nothing is
// lost while the brokers are away. Vector drops every failed message; like
// the TCP sink, which sends unacknowledged messages again, this sink goes
// further.
//
// What librdkafka holds (copies of the in-flight messages) is bounded by the
// buffer's own size (kafka_in_flight_limit): while the brokers are away the
// buffer fills soon after, and its whenFull decides.
#pragma once

#include "shipper/delivery/sink.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace kumasim::shipper {

struct KafkaSetting {
  std::string name, value;
};

// The librdkafka configuration of a destination, in the order it is applied.
std::vector<KafkaSetting> kafka_settings(const KafkaSpec& kafka, const TlsMaterial& tls);

// How much the sink hands to librdkafka before it waits for delivery
// reports: a Memory buffer's maxEvents, at most 32768 (below librdkafka's
// own queue bound, queue.buffering.max.messages=100000); and 64 MiB of keys
// and values, or a Disk buffer's maxSize when smaller, so that large events
// cannot take GBs. A memory buffer counts only waiting messages, so with
// Memory at most twice maxEvents are held in all.
struct InFlightLimit {
  std::size_t messages = 0, bytes = 0;
};
InFlightLimit kafka_in_flight_limit(const BufferSpec& buffer);

// Failures that sending again cannot cure: the message itself is refused
// (too large, invalid, a bad timestamp, a broker policy) or its topic is
// (not authorized, an invalid name, missing while auto-creation is off).
// A missing topic counts as permanent because topics are rendered per event
// (§11.3): retrying would hold every later event behind one whose topic does
// not exist. Everything else, notably a message that timed out while the
// brokers were unreachable, is transient.
bool kafka_error_permanent(rd_kafka_resp_err_t error);

class KafkaSink final : public Sink {
 public:
  // Creates the producer for `destination`, a Kafka one. Throws
  // std::runtime_error naming a setting librdkafka rejects and its reason,
  // or librdkafka's reason for refusing the configuration as a whole (an
  // unsupported SASL mechanism, bad PEM).
  KafkaSink(SinkContext context, const Destination& destination, const DeliveryOptions& options);
  void run() override;

 private:
  // What became of each in-flight message.
  enum class Outcome : unsigned char { pending, done, failed };

  static void on_delivery(rd_kafka_t* producer, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t* producer, int error, const char* reason, void* opaque);
  bool window_full() const;
  void produce_batch();
  void produce(std::size_t index);
  void delivered(const rd_kafka_message_t& message);
  void failed(std::size_t index, rd_kafka_resp_err_t error);
  void poll(std::chrono::milliseconds wait);
  void retire_done();
  void send_failed_again();

  SinkContext context_;
  StateLog state_;
  const InFlightLimit limit_;
  Backoff backoff_;  // between rounds of sending failed messages again
  // Parallel to the buffer's in-flight list. Reports arrive out of order
  // across partitions; the done prefix retires. Once one has failed, nothing
  // new is produced until every message is reported; then the failed ones
  // go back to the buffer, in their order, and the done ones leave.
  Ring<Outcome> outcomes_;
  std::uint64_t first_ticket_ = 0;  // the ticket of in-flight message 0; message i has first_ticket_ + i
  std::size_t in_flight_bytes_ = 0;  // keys and values of the in-flight messages
  std::size_t unreported_ = 0;       // handed to librdkafka, no report yet
  std::size_t failed_ = 0;           // in-flight messages to send again
  bool stopping_ = false;
  // Last, so that it goes first: nothing it calls back may find the rest gone.
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> producer_{nullptr, &rd_kafka_destroy};
};

}  // namespace kumasim::shipper
