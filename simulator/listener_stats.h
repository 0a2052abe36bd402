// Counters of one listener. Relaxed atomics: sessions on any I/O thread bump
// them without a lock; readers (the API) take a snapshot that may be a few
// events behind.
#pragma once

#include "formats/lint.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace kumasim::sim {

struct ListenerStats {
  using Counter = std::atomic<std::uint64_t>;
  Counter frames{0};         // events recorded
  Counter bytes{0};          // bytes received, delimiters included
  Counter decode_errors{0};  // KUMA's "Normalization -> Errors"
  Counter truncations{0};    // events whose bytes were not all kept (or, UDP, not all read by KUMA)
  Counter oversize{0};       // events over KUMA's 4 MB limit: lost to KUMA (lost_oversize)
  Counter empty_frames{0};   // skipped, as KUMA skips them
  Counter connections{0};    // accepted since start
  Counter open_connections{0};
  Counter accept_errors{0};  // accepts that failed, e.g. out of file descriptors
  Counter tls_failures{0};   // failed handshakes (lost_tls)
  Counter udp_kernel_drops{0};  // datagrams the kernel dropped before we read them (SO_RXQ_OVFL)
  Counter faults_applied{0};  // faults injected through POST /api/v1/listeners/NAME/faults (or Server::inject_*)
  Counter kafka_offset_gaps{0};    // Kafka: jumps past the next expected offset of a partition
  Counter kafka_lost_messages{0};  // Kafka: messages skipped by those jumps (lost to KUMA)
  Counter kafka_errors{0};         // Kafka: consumer errors reported by librdkafka
  Counter kafka_assigned_partitions{0};  // Kafka: partitions the group gave this consumer (a gauge)
  std::array<Counter, formats::kLintCount> lints{};

  // Why TLS handshakes failed (rare: a lock is fine here).
  void tls_failed(const std::string& reason);
  std::map<std::string, std::uint64_t> tls_failure_reasons() const;

  // Kafka: the latest consumer error, "NAME: reason" (rare: a lock is fine).
  void set_kafka_last_error(std::string text) {
    const std::lock_guard lock(reasons_mutex_);
    kafka_last_error_ = std::move(text);
  }
  std::string kafka_last_error() const {
    const std::lock_guard lock(reasons_mutex_);
    return kafka_last_error_;
  }

  static void bump(Counter& counter, std::uint64_t by = 1) { counter.fetch_add(by, std::memory_order_relaxed); }

 private:
  mutable std::mutex reasons_mutex_;
  std::map<std::string, std::uint64_t> reasons_;
  std::string kafka_last_error_;
};

// {"frames":..., ..., "lints":{"cef-version-1":3, ...}} (only lints seen);
// `kafka` adds the Kafka counters.
nlohmann::json stats_json(const ListenerStats& stats, bool kafka = false);

}  // namespace kumasim::sim
