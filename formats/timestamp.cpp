#include "formats/timestamp.h"

#include <chrono>
#include <cstdlib>

namespace kumasim::formats {

namespace {

// Writes `value` as exactly `width` decimal digits (snprintf is a tenth of the shipper's time otherwise).
char* put_digits(char* p, long value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return p + width;
}

}  // namespace

std::string format_dkp_timestamp(std::int64_t unix_ns, int utc_offset_seconds) {
  using namespace std::chrono;
  const auto local = sys_time<nanoseconds>(nanoseconds(unix_ns)) + seconds(utc_offset_seconds);
  const auto day = floor<days>(local);
  const year_month_day date(day);
  const hh_mm_ss<nanoseconds> time(local - day);
  const auto nanos = static_cast<long>(time.subseconds().count());

  char buf[48];
  char* p = put_digits(buf, static_cast<int>(date.year()), 4);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(date.month()), 2);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(date.day()), 2);
  *p++ = 'T';
  p = put_digits(p, static_cast<long>(time.hours().count()), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<long>(time.minutes().count()), 2);
  *p++ = ':';
  p = put_digits(p, static_cast<long>(time.seconds().count()), 2);
  if (nanos != 0) {
    *p++ = '.';
    if (nanos % 1'000'000 == 0) p = put_digits(p, nanos / 1'000'000, 3);
    else if (nanos % 1'000 == 0) p = put_digits(p, nanos / 1'000, 6);
    else p = put_digits(p, nanos, 9);
  }
  const int offset_minutes = std::abs(utc_offset_seconds) / 60;
  *p++ = utc_offset_seconds < 0 ? '-' : '+';
  p = put_digits(p, offset_minutes / 60, 2);
  *p++ = ':';
  p = put_digits(p, offset_minutes % 60, 2);
  return std::string(buf, p);
}

}  // namespace kumasim::formats

namespace kumasim::formats {
namespace {

// Reads exactly `width` digits at `pos`.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool expect(std::string_view text, std::size_t pos, std::string_view chars) {
  return pos < text.size() && chars.find(text[pos]) != std::string_view::npos;
}

// The fraction at `pos` (after '.') as nanoseconds; advances `pos`.
std::optional<std::int64_t> fraction(std::string_view text, std::size_t& pos) {
  std::int64_t nanos = 0;
  int count = 0;
  for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++count) {
    if (count < 9) nanos = nanos * 10 + (text[pos] - '0');
  }
  if (count == 0) return std::nullopt;
  for (; count < 9; ++count) nanos *= 10;
  return nanos;
}

// "Z" or "±HH:MM" at `pos`, to the end of the text, as seconds east of UTC.
std::optional<int> utc_offset(std::string_view text, std::size_t pos) {
  if (pos + 1 == text.size() && expect(text, pos, "Zz")) return 0;
  if (pos + 6 != text.size() || !expect(text, pos, "+-") || text[pos + 3] != ':') return std::nullopt;
  const auto hours = digits(text, pos + 1, 2), minutes = digits(text, pos + 4, 2);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  const int seconds = *hours * 3600 + *minutes * 60;
  return text[pos] == '-' ? -seconds : seconds;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  using namespace std::chrono;
  const auto y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
  const auto h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
  if (!y || !mo || !d || !h || !mi || !s || !expect(text, 4, "-") || !expect(text, 7, "-") ||
      !expect(text, 10, "Tt") || !expect(text, 13, ":") || !expect(text, 16, ":"))
    return std::nullopt;
  const year_month_day date{year(*y), month(static_cast<unsigned>(*mo)), day(static_cast<unsigned>(*d))};
  if (!date.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  std::size_t pos = 19;
  std::int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    const auto frac = fraction(text, ++pos);
    if (!frac) return std::nullopt;
    nanos = *frac;
  }
  const auto offset = utc_offset(text, pos);
  if (!offset) return std::nullopt;
  const std::int64_t seconds =
      sys_days(date).time_since_epoch().count() * 86400LL + *h * 3600LL + *mi * 60LL + *s - *offset;
  return seconds * 1'000'000'000LL + nanos;
}

}  // namespace kumasim::formats
