#include "replay/pacer.h"

#include "formats/timestamp.h"

#include <algorithm>

namespace kumasim::replay {

void Flag::raise() {
  {
    std::lock_guard lock(mutex_);
    raised_ = true;
  }
  wake_.notify_all();
}

bool Flag::raised() const {
  std::lock_guard lock(mutex_);
  return raised_;
}

bool Flag::wait_until(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return wake_.wait_until(lock, deadline, [&] { return raised_; });
}

Pacer::Pacer(Rate rate)
    : mode_(Mode::rate),
      interval_(std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / std::max(rate.per_second, 1e-9)))) {}

Pacer::Pacer(Recorded recorded) : mode_(Mode::recorded), speed_(recorded.speed) {}

bool Pacer::wait(std::string_view line, Flag& stop) {
  using clock = std::chrono::steady_clock;
  const auto now = clock::now();
  if (mode_ == Mode::rate) {
    // A late sender catches up by at most one second's worth of events.
    if (!next_ || *next_ < now - std::chrono::seconds(1)) next_ = now;
    const auto due = *next_;
    *next_ += interval_;
    return due <= now || !stop.wait_until(due);
  }
  if (mode_ == Mode::recorded) {
    const auto at = record_time_ns(line);
    if (!at) return true;  // not an audit record: send at once
    if (!first_record_ns_) {
      first_record_ns_ = *at;
      next_ = now;
    }
    const double offset_ns = static_cast<double>(*at - *first_record_ns_) / speed_;
    const auto due = *next_ + std::chrono::nanoseconds(static_cast<std::int64_t>(std::max(offset_ns, 0.0)));
    return due <= now || !stop.wait_until(due);
  }
  return true;
}

std::optional<std::int64_t> record_time_ns(std::string_view line) {
  for (std::string_view key : {"\"requestReceivedTimestamp\":\"", "\"stageTimestamp\":\""}) {
    const auto start = line.find(key);
    if (start == std::string_view::npos) continue;
    const auto value = line.substr(start + key.size());
    const auto end = value.find('"');
    if (end == std::string_view::npos) continue;
    if (auto ns = formats::parse_rfc3339(value.substr(0, end))) return ns;
  }
  return std::nullopt;
}

}  // namespace kumasim::replay
