// The Kafka listener (kuma-receiver.md §2.3): KUMA is the consumer. The broker
// is either embedded (librdkafka's mock cluster, started with the listener,
// with one topic, faults injectable) or an external cluster reached with
// KUMA's security settings (SASL, TLS). A high-level consumer in KUMA's group
// reads the topic on its own thread; each message value is one event (or one
// per part when a delimiter is set), recorded like a UDP datagram, with the
// message's topic, partition, offset, key, timestamp and headers.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

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
  // Consumption of `partition` resumes at `offset` (a committed offset):
  // messages before it were read by someone, not lost.
  void resume_at(std::int32_t partition, std::int64_t offset);
  // The first offset seen for `partition` is its start (an external topic:
  // older messages may have expired long ago). A partition already tracked
  // keeps its expectation.
  void start_unknown(std::int32_t partition);
  // `partition` was (re)assigned to this consumer. `committed`: the group's
  // committed offset (resume_at), negative when the group has none (a fresh
  // topic, the embedded broker's, starts at 0; an external one at an unknown
  // start), or nullopt when it could not be read: then the first offset seen is
  // the start, even for a partition tracked before (another member may have
  // read past where we stopped), so that a failed lookup is never a false loss.
  void assigned(std::int32_t partition, std::optional<std::int64_t> committed, bool fresh_topic);

 private:
  std::map<std::int32_t, std::int64_t> next_;  // a fresh topic: every partition starts at 0; -1: unknown
};

// A fault injected into the embedded cluster (docs/api.md, POST
// /api/v1/listeners/NAME/faults). Fields left empty are not changed.
struct KafkaFault {
  std::optional<int> broker;  // 1..brokers; required by `down`, `rtt_ms` without it applies to every broker
  std::optional<bool> down;
  std::optional<int> rtt_ms;
  struct RequestErrors {
    int api = 0;    // Kafka ApiKey: Produce 0, Fetch 1
    int error = 0;  // rd_kafka_resp_err_t
    int count = 1;
  };
  std::optional<RequestErrors> request_errors;
};

// librdkafka's error code for a name such as "NOT_LEADER_FOR_PARTITION"
// (with or without "RD_KAFKA_RESP_ERR_"), broker errors only.
std::optional<int> kafka_error_code(std::string_view name);

class KafkaListener {
 public:
  // Starts the embedded cluster and creates the topic (embedded) and the
  // consumer; throws std::runtime_error with the reason when librdkafka
  // refuses, naming the setting.
  explicit KafkaListener(ListenerContext& listener);
  ~KafkaListener();  // stops
  KafkaListener(const KafkaListener&) = delete;
  KafkaListener& operator=(const KafkaListener&) = delete;

  // "127.0.0.1:PORT,127.0.0.1:PORT": every broker of the embedded cluster, or
  // the external cluster's bootstrap list.
  const std::string& bootstrap() const;
  bool embedded() const { return cluster_ != nullptr; }
  void start();  // the consumer thread
  // Prompt: the consumer polls with a short timeout, and its close (leaving
  // the group) is bounded: the embedded brokers are brought back up first, and
  // a close that cannot finish in a few seconds is abandoned.
  void stop();

  // Consumer lag: over the partitions assigned to this listener, the sum of
  // (high watermark - position), from the watermarks of the latest fetch
  // responses (no request to the broker). nullopt when unknown: nothing
  // assigned yet, no fetch answered yet, or the brokers are unreachable.
  std::optional<std::int64_t> lag() const;
  // lag() for the stats: an integer, or null when unknown.
  nlohmann::json lag_json() const;
  // The lag with the high watermarks asked of the brokers (each answer within
  // `timeout`): exact even after an outage, for a caller that must know that
  // everything produced was consumed (the scenario runner). nullopt as lag().
  std::optional<std::int64_t> lag_from_brokers(std::chrono::milliseconds timeout) const;

  // Embedded only: applies `fault`; an error message (naming the field) when
  // the fault cannot be applied.
  std::optional<std::string> inject(const KafkaFault& fault);

 private:
  class EmbeddedCluster;
  class Consumer;
  std::unique_ptr<EmbeddedCluster> cluster_;
  std::string external_bootstrap_;
  std::unique_ptr<Consumer> consumer_;
};

}  // namespace kumasim::sim
