// The shipper's injectable inputs from the node (dkp-log-shipper.md §1): the
// clock that stamps each read line and the zone its `timestamp` is written in.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace kumasim::shipper {

// `real`, `fixed:<RFC3339>` (every reading the same), or
// `step:<ns>[@<RFC3339>]` (each reading `ns` later than the previous one,
// starting at the given time, or at the real time of the first reading).
class Clock {
 public:
  static std::variant<Clock, std::string> parse(std::string_view spec);
  std::int64_t now_ns();

 private:
  enum class Kind { real, fixed, step } kind_ = Kind::real;
  std::int64_t next_ns_ = 0, step_ns_ = 0;
  bool started_ = false;
};

// A fixed offset (`UTC`, `+03:00`, `-0530`) or an IANA zone name resolved
// through the C library's tz database (`Europe/Moscow`), as DKP's agent reads
// the node's /etc/localtime. "" is the machine's local zone.
class TimeZone {
 public:
  static std::variant<TimeZone, std::string> parse(std::string_view spec);
  // Seconds east of UTC at `unix_ns` (DST included). Called for every line
  // by the reader thread only: a zone's offset is looked up once per second.
  int offset_at(std::int64_t unix_ns);

 private:
  bool fixed_ = true;
  int offset_seconds_ = 0;       // fixed zones; for named ones, the offset at cached_second_
  std::int64_t cached_second_ = 0;
  bool cached_ = false;
};

}  // namespace kumasim::shipper
