#include "shipper/pipeline/rate_limiter.h"

#include "formats/event.h"
#include "formats/json.h"
#include "formats/utf8.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

namespace kumasim::shipper {
namespace {

constexpr std::int64_t kPurgeIntervalNs = 120'000'000'000;  // window_secs * 2

// Vector builds the quota as Quota::with_period(Duration::from_secs_f64(60.0 /
// N)).allow_burst(N). from_secs_f64 rounds the double's exact value to the
// nearest nanosecond, ties to even (Rust >= 1.63), so the period is computed
// from the double's bits rather than by a second floating-point product.
std::int64_t period_ns(std::int64_t lines_per_minute) {
  const double seconds = 60.0 / static_cast<double>(lines_per_minute);
  int exponent = 0;
  const double fraction = std::frexp(seconds, &exponent);  // seconds = fraction * 2^exponent
  const auto mantissa = static_cast<std::uint64_t>(std::ldexp(fraction, 53));
  // seconds = mantissa * 2^-shift; with 1 <= N < 2^63, shift is within [47, 110].
  const int shift = 53 - exponent;
  __extension__ using u128 = unsigned __int128;
  const u128 scaled = static_cast<u128>(mantissa) * 1'000'000'000u;
  const u128 whole = scaled >> shift;
  const u128 remainder = scaled - (whole << shift);
  const u128 half = u128{1} << (shift - 1);
  const bool round_up = remainder > half || (remainder == half && (whole & 1) != 0);
  return static_cast<std::int64_t>(whole + (round_up ? 1 : 0));
}

// The key as Vector's template rendering writes a value (to_string_lossy):
// strings lossy UTF-8, numbers as VRL prints them, null as "<null>", objects
// and arrays as compact JSON.
std::string render_key(const nlohmann::json& value) {
  std::string out;
  switch (value.type()) {
    case nlohmann::json::value_t::string:
      formats::utf8::append_lossy(value.get_ref<const std::string&>(), out);
      return out;
    case nlohmann::json::value_t::number_integer: return std::to_string(value.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const auto number = value.get<std::uint64_t>();
      if (number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::to_string(number);
      return formats::event::rust_float(static_cast<double>(number));  // VRL has no unsigned integers
    }
    case nlohmann::json::value_t::number_float: return formats::event::rust_float(value.get<double>());
    case nlohmann::json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::null: return "<null>";
    default:
      formats::json::encode(value, out);
      return out;
  }
}

}  // namespace

std::variant<RateLimiter, FilterError> RateLimiter::compile(const RateLimitSpec& spec) {
  if (spec.lines_per_minute <= 0) return FilterError{"rate-limit-zero", "linesPerMinute must be at least 1"};
  // Vector's throttle threshold is a u32.
  if (spec.lines_per_minute > std::numeric_limits<std::uint32_t>::max())
    return FilterError{"rate-limit-invalid", "linesPerMinute above 4294967295 does not fit Vector's threshold"};
  RateLimiter limiter;
  limiter.period_ns_ = period_ns(spec.lines_per_minute);
  limiter.tolerance_ns_ = limiter.period_ns_ * spec.lines_per_minute;
  limiter.key_field_ = spec.key_field.value_or("");
  for (std::size_t i = 0; i < spec.excludes.size(); ++i) {
    auto condition = Condition::compile(spec.excludes[i], {});
    if (auto* error = std::get_if<FilterError>(&condition))
      return FilterError{error->code, "excludes[" + std::to_string(i) + "]: " + error->message};
    limiter.excludes_.push_back(std::get<Condition>(std::move(condition)));
  }
  return limiter;
}

bool RateLimiter::admit(const nlohmann::json& event, std::int64_t now_ns) {
  purge_stale(now_ns);
  for (const Condition& exclude : excludes_)
    if (exclude.keep(event)) return true;
  const nlohmann::json* key = key_field_.empty() ? nullptr : formats::event::find(event, key_field_);
  if (!key) {
    if (!unkeyed_) unkeyed_ = Bucket{now_ns + period_ns_};
    return take(*unkeyed_, now_ns);
  }
  if (key->is_string() && formats::utf8::is_valid(key->get_ref<const std::string&>()))
    return take(bucket(key->get_ref<const std::string&>(), now_ns), now_ns);
  return take(bucket(render_key(*key), now_ns), now_ns);
}

RateLimiter::Bucket& RateLimiter::bucket(std::string_view key, std::int64_t now_ns) {
  if (const auto it = buckets_.find(key); it != buckets_.end()) return it->second;
  // governor's starting state for a new key: TAT = now + one period.
  return buckets_.emplace(std::string(key), Bucket{now_ns + period_ns_}).first->second;
}

// Vector's throttle is a tick transform: every 2 x window_secs (120 s) it calls
// governor's retain_recent(), which drops the keys whose TAT is not after the
// tick. This is observable: a dropped key restarts fresh and admits N, a stale
// key still kept admits N + 1 (its TAT lies in the past instead of one period
// ahead). Ticks are counted from the first event, as if the agent had just
// started; only the last tick before `now_ns` matters, since nothing changed
// in between.
void RateLimiter::purge_stale(std::int64_t now_ns) {
  if (!next_purge_ns_) {
    next_purge_ns_ = now_ns + kPurgeIntervalNs;
    return;
  }
  if (now_ns < *next_purge_ns_) return;
  const std::int64_t tick = *next_purge_ns_ + (now_ns - *next_purge_ns_) / kPurgeIntervalNs * kPurgeIntervalNs;
  std::erase_if(buckets_, [tick](const auto& entry) { return entry.second.theoretical_arrival_ns <= tick; });
  if (unkeyed_ && unkeyed_->theoretical_arrival_ns <= tick) unkeyed_.reset();
  next_purge_ns_ = tick + kPurgeIntervalNs;
}

// governor's GCRA, the limiter inside Vector's throttle: an event passes unless
// now is before TAT - tau (tau = N periods); a pass moves TAT one period past
// max(TAT, now). A fresh bucket (TAT = now + one period) admits N events at
// once, then one more every 60/N s: a token bucket of N tokens, starting full.
bool RateLimiter::take(Bucket& state, std::int64_t now_ns) const {
  if (now_ns < state.theoretical_arrival_ns - tolerance_ns_) return false;
  state.theoretical_arrival_ns = std::max(state.theoretical_arrival_ns, now_ns) + period_ns_;
  return true;
}

}  // namespace kumasim::shipper
