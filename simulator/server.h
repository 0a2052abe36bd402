// A running mock KUMA collector: the listeners, the event store they feed and
// the I/O threads that drive them. `kumasim serve` wraps one; tests start
// one in-process on ephemeral ports.
#pragma once

#include "simulator/event_store.h"
#include "simulator/frame_recorder.h"
#include "simulator/kafka_listener.h"
#include "simulator/listener_config.h"
#include "simulator/listener_fault.h"

#include <nlohmann/json.hpp>

#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace kumasim::sim {

struct ServerConfig {
  std::vector<ListenerConfig> listeners;
  std::uint64_t max_store = 256ull * 1024 * 1024;  // bytes
  std::string capture;                             // capture file; empty: none
  unsigned io_threads = 0;                         // 0: the number of cores
  // A reader will see every event (store().reader_at()): the store makes the
  // listeners wait rather than evict what it has not seen (the scenario runner).
  bool lossless_reader = false;
};

class Server {
 public:
  // Binds every listener (throws std::runtime_error naming the listener when
  // one cannot be bound or configured), then runs the I/O threads.
  explicit Server(ServerConfig config);
  ~Server();  // stops the listeners and threads, flushes the capture
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  EventStore& store() { return store_; }
  // [{"name","transport","address","port","codec"}]: the addresses actually bound.
  nlohmann::json listeners_json() const;
  // {"listeners":{name: counters}, "store": {...}}
  nlohmann::json stats_json() const;

  // What became of a fault (POST /api/v1/listeners/NAME/faults): applied; no
  // listener of that name; a fault that does not apply to the listener (its
  // transport, or an external Kafka cluster); or rejected, with the reason.
  struct FaultResult {
    enum class Kind { applied, no_listener, not_applicable, rejected } kind;
    std::string message;  // why not
  };
  // Applies `fault` to the embedded Kafka broker of listener `name`.
  FaultResult inject_kafka_fault(const std::string& name, const KafkaFault& fault);
  // Kafka listener `name`: KafkaListener::lag_from_brokers; nullopt for any other listener.
  std::optional<std::int64_t> kafka_lag_from_brokers(const std::string& name, std::chrono::milliseconds timeout) const;
  // Applies `fault` to TCP or TLS listener `name` (fail_tls_handshakes: TLS
  // only), from any thread but the I/O threads; returns once it is in effect
  // (listener_fault.h says what each kind does).
  FaultResult inject_listener_fault(const std::string& name, const ListenerFault& fault);

 private:
  struct Runtime;
  ServerConfig config_;
  EventStore store_;
  std::deque<ListenerContext> contexts_;  // stable addresses: sessions keep references
  std::unique_ptr<Runtime> runtime_;
};

}  // namespace kumasim::sim
