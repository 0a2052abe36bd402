// The `timestamp` string DKP log-shipper puts in every event
// (dkp-log-shipper.md §10.1): local time at the read instant, written as
// chrono's `%+` writes it. Choosing the zone's offset is the caller's job.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kumasim::formats {

// YYYY-MM-DDTHH:MM:SS[.fff|.ffffff|.fffffffff]±HH:MM for `unix_ns` at
// `utc_offset_seconds`. The fraction has 0, 3, 6 or 9 digits: none when the
// nanoseconds are 0, else the fewest of 3/6/9 that are exact. UTC is +00:00.
std::string format_dkp_timestamp(std::int64_t unix_ns, int utc_offset_seconds);

}  // namespace kumasim::formats

namespace kumasim::formats {

// RFC 3339 date-time ("2025-01-15T07:20:30.130512345Z", "...+03:00", 't' and
// 'z' accepted, 0-9 fraction digits) to Unix nanoseconds; nullopt when the
// text is not one or the values are out of range.
std::optional<std::int64_t> parse_rfc3339(std::string_view text);

}  // namespace kumasim::formats
