#include "formats/timestamp.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace kumasim::formats {

std::string format_dkp_timestamp(std::int64_t unix_ns, int utc_offset_seconds) {
  using namespace std::chrono;
  const auto local = sys_time<nanoseconds>(nanoseconds(unix_ns)) + seconds(utc_offset_seconds);
  const auto day = floor<days>(local);
  const year_month_day date(day);
  const hh_mm_ss<nanoseconds> time(local - day);
  const auto nanos = static_cast<long>(time.subseconds().count());

  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld", static_cast<int>(date.year()),
                        static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                        static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
                        static_cast<long>(time.seconds().count()));
  if (nanos % 1'000'000'000 == 0) {
    // no fraction
  } else if (nanos % 1'000'000 == 0) {
    n += std::snprintf(buf + n, sizeof buf - n, ".%03ld", nanos / 1'000'000);
  } else if (nanos % 1'000 == 0) {
    n += std::snprintf(buf + n, sizeof buf - n, ".%06ld", nanos / 1'000);
  } else {
    n += std::snprintf(buf + n, sizeof buf - n, ".%09ld", nanos);
  }
  const int offset_minutes = std::abs(utc_offset_seconds) / 60;
  std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", utc_offset_seconds < 0 ? '-' : '+', offset_minutes / 60,
                offset_minutes % 60);
  return buf;
}

}  // namespace kumasim::formats
