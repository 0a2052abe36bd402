#include "shipper/pipeline/clock.h"

#include "formats/timestamp.h"

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace kumasim::shipper {
namespace {

std::int64_t real_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// `+03:00`, `-0530`, `+3`: sign, hours, optional minutes.
std::optional<int> parse_offset(std::string_view text) {
  if (text.size() < 2 || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  const int sign = text[0] == '-' ? -1 : 1;
  std::string digits;
  for (char c : text.substr(1))
    if (c != ':') digits += c;
  if (digits.size() != 4 && digits.size() > 2) return std::nullopt;
  const auto hours = parse_int(std::string_view(digits).substr(0, std::min<std::size_t>(2, digits.size())));
  const auto minutes = digits.size() == 4 ? parse_int(std::string_view(digits).substr(2)) : std::optional<std::int64_t>(0);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  return sign * static_cast<int>(*hours * 3600 + *minutes * 60);
}

}  // namespace

std::variant<Clock, std::string> Clock::parse(std::string_view spec) {
  Clock clock;
  if (spec == "real") return clock;
  if (spec.starts_with("fixed:")) {
    const auto at = formats::parse_rfc3339(spec.substr(6));
    if (!at) return "--clock fixed:<RFC3339>: \"" + std::string(spec.substr(6)) + "\" is not an RFC 3339 date-time";
    clock.kind_ = Kind::fixed;
    clock.next_ns_ = *at;
    return clock;
  }
  if (spec.starts_with("step:")) {
    const auto body = spec.substr(5);
    const auto at_sign = body.find('@');
    const auto step = parse_int(body.substr(0, at_sign));
    if (!step || *step < 0) return "--clock step:<ns>[@<RFC3339>]: the step must be a non-negative integer of nanoseconds";
    clock.kind_ = Kind::step;
    clock.step_ns_ = *step;
    if (at_sign != std::string_view::npos) {
      const auto start = formats::parse_rfc3339(body.substr(at_sign + 1));
      if (!start) return "--clock step:<ns>@<RFC3339>: \"" + std::string(body.substr(at_sign + 1)) + "\" is not an RFC 3339 date-time";
      clock.next_ns_ = *start;
      clock.started_ = true;
    }
    return clock;
  }
  return "--clock: \"" + std::string(spec) + "\" is none of real, fixed:<RFC3339>, step:<ns>[@<RFC3339>]";
}

std::int64_t Clock::now_ns() {
  switch (kind_) {
    case Kind::real:
      return real_now_ns();
    case Kind::fixed:
      return next_ns_;
    case Kind::step:
      if (!started_) {
        next_ns_ = real_now_ns();
        started_ = true;
      }
      const std::int64_t now = next_ns_;
      next_ns_ += step_ns_;
      return now;
  }
  return 0;
}

std::variant<TimeZone, std::string> TimeZone::parse(std::string_view spec) {
  TimeZone zone;
  if (spec == "UTC" || spec == "Z" || spec == "Etc/UTC") return zone;
  if (const auto offset = parse_offset(spec)) {
    zone.offset_seconds_ = *offset;
    return zone;
  }
  if (!spec.empty()) {
    // glibc silently treats an unknown name as UTC; refuse it instead.
    const std::filesystem::path file = std::filesystem::path("/usr/share/zoneinfo") / std::string(spec);
    if (spec.find("..") != std::string_view::npos || !std::filesystem::is_regular_file(file))
      return "--timezone: \"" + std::string(spec) + "\" is neither a fixed offset (+03:00) nor a zone in /usr/share/zoneinfo";
    ::setenv("TZ", std::string(spec).c_str(), 1);
  }
  ::tzset();
  zone.fixed_ = false;
  return zone;
}

int TimeZone::offset_at(std::int64_t unix_ns) {
  if (fixed_) return offset_seconds_;
  const std::int64_t second = unix_ns / 1'000'000'000 - (unix_ns % 1'000'000'000 < 0);
  if (cached_ && second == cached_second_) return offset_seconds_;
  const auto seconds = static_cast<std::time_t>(second);
  std::tm local{};
  ::localtime_r(&seconds, &local);
  cached_ = true;
  cached_second_ = second;
  offset_seconds_ = static_cast<int>(local.tm_gmtoff);
  return offset_seconds_;
}

}  // namespace kumasim::shipper
