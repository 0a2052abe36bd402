// rateLimit (dkp-log-shipper.md §9): Vector's throttle, a GCRA limiter per
// key with capacity N = linesPerMinute refilled at N per 60 s, starting full.
#pragma once

#include "shipper/pipeline/filter.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kumasim::shipper {

class RateLimiter {
 public:
  // `spec.excludes` compiled from the event root.
  static std::variant<RateLimiter, FilterError> compile(const RateLimitSpec& spec);
  // true: the event passes (consumes a token, or is excluded). `now_ns` comes
  // from the shipper's injectable clock.
  bool admit(const nlohmann::json& event, std::int64_t now_ns);

 private:
  struct Bucket {
    std::int64_t theoretical_arrival_ns = 0;  // GCRA TAT
  };
  // Lets buckets_ be searched with a string_view, without building a key.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  bool take(Bucket& state, std::int64_t now_ns) const;
  Bucket& bucket(std::string_view key, std::int64_t now_ns);
  void purge_stale(std::int64_t now_ns);

  std::int64_t period_ns_ = 0;     // one token every 60 s / N
  std::int64_t tolerance_ns_ = 0;  // N periods: the burst
  std::string key_field_;          // empty: one bucket
  std::vector<Condition> excludes_;
  std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>> buckets_;
  std::optional<Bucket> unkeyed_;  // events without the key field share it
  std::optional<std::int64_t> next_purge_ns_;  // Vector's next retain_recent() tick
};

}  // namespace kumasim::shipper
