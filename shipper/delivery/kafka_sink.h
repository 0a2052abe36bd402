// Kafka destination (dkp-log-shipper.md §3.5, §11.3) through a librdkafka
// producer: one message per event, the value without LF, the key from
// Message::key (null when absent), the topic as the pipeline rendered it, no
// headers; gzip, socket.timeout.ms=60000, message.timeout.ms=300000 and the
// librdkafka defaults for acks and partitioning.
//
// A message is done when its delivery report arrives. librdkafka retries by
// itself until message.timeout.ms; a report with an error then counts as
// dropped_send. While the brokers are away, messages pile up in librdkafka's
// queue up to a bound, then in the buffer, whose whenFull decides.
#pragma once

#include "shipper/delivery/sink.h"

#include <librdkafka/rdkafka.h>

#include <memory>
#include <string>
#include <vector>

namespace kumasim::shipper {

struct KafkaSetting {
  std::string name, value;
};

// The librdkafka configuration of a destination, in the order it is applied.
std::vector<KafkaSetting> kafka_settings(const KafkaSpec& kafka, const TlsMaterial& tls);

class KafkaSink final : public Sink {
 public:
  // Creates the producer. Throws std::runtime_error naming a setting
  // librdkafka rejects and its reason, or librdkafka's reason for refusing
  // the configuration as a whole (an unsupported SASL mechanism, bad PEM).
  KafkaSink(SinkContext context, const KafkaSpec& kafka, const TlsMaterial& tls);
  void run() override;

 private:
  static void on_delivery(rd_kafka_t* producer, const rd_kafka_message_t* message, void* opaque);
  static void on_error(rd_kafka_t* producer, int error, const char* reason, void* opaque);
  void produce(std::size_t index);
  void delivered(const rd_kafka_message_t& message);
  void retire_done();

  SinkContext context_;
  StateLog state_;
  // Parallel to the buffer's in-flight list: 1 once the message is done.
  // Reports arrive out of order across partitions; the done prefix retires.
  Ring<unsigned char> done_;
  std::uint64_t first_ticket_ = 0;  // the ticket of in-flight message 0; message i has first_ticket_ + i
  bool stopping_ = false;
  // Last, so that it goes first: nothing it calls back may find the rest gone.
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> producer_{nullptr, &rd_kafka_destroy};
};

}  // namespace kumasim::shipper
