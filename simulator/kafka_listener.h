// The Kafka listener (kuma-receiver.md §2.3): KUMA is the consumer. In this
// slice the broker is embedded: librdkafka's mock cluster, started with the
// listener, with one topic. A high-level consumer in KUMA's group reads it
// on its own thread; each message value is one event (or one per part when a
// delimiter is set), recorded like a UDP datagram, with the message's topic,
// partition, offset, key, timestamp and headers.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "simulator/frame_recorder.h"

namespace kumasim::sim {

// Finds messages lost to the consumer: within a partition offsets are
// consecutive, so a jump means the broker dropped messages before we read
// them (the mock cluster keeps ~5 MiB per partition).
class OffsetTracker {
 public:
  // How many messages were skipped before `offset` (0: none). An offset
  // below the expected one is a redelivery (after a rebalance): not a loss.
  std::uint64_t observe(std::int32_t partition, std::int64_t offset);

 private:
  std::map<std::int32_t, std::int64_t> next_;  // a fresh topic: every partition starts at 0
};

class KafkaListener {
 public:
  // Starts the embedded cluster and creates the topic; throws
  // std::runtime_error with the reason when librdkafka refuses.
  explicit KafkaListener(ListenerContext& listener);
  ~KafkaListener();  // stops
  KafkaListener(const KafkaListener&) = delete;
  KafkaListener& operator=(const KafkaListener&) = delete;

  // "127.0.0.1:PORT,127.0.0.1:PORT": every broker of the embedded cluster.
  const std::string& bootstrap() const;
  void start();  // the consumer thread
  void stop();   // prompt: the consumer polls with a short timeout

 private:
  class EmbeddedCluster;
  class Consumer;
  std::unique_ptr<EmbeddedCluster> cluster_;
  std::unique_ptr<Consumer> consumer_;
};

}  // namespace kumasim::sim
