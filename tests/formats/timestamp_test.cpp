#include "formats/timestamp.h"

#include <gtest/gtest.h>

namespace kumasim::formats {
namespace {

// 2025-01-15T07:20:30Z, the read time of dkp-log-shipper.md §13.
constexpr std::int64_t kSecond = 1736925630;
constexpr std::int64_t ns(std::int64_t seconds, std::int64_t nanos) { return seconds * 1'000'000'000 + nanos; }

TEST(DkpTimestamp, WorkedExampleAtUtcPlusThree) {
  EXPECT_EQ(format_dkp_timestamp(ns(kSecond, 130512345), 3 * 3600), "2025-01-15T10:20:30.130512345+03:00");
}

// §16 item 10: n = 0, 1,000,000, 1,000 and 1.
TEST(DkpTimestamp, FractionHasZeroThreeSixOrNineDigits) {
  EXPECT_EQ(format_dkp_timestamp(ns(kSecond, 0), 0), "2025-01-15T07:20:30+00:00");
  EXPECT_EQ(format_dkp_timestamp(ns(kSecond, 1'000'000), 0), "2025-01-15T07:20:30.001+00:00");
  EXPECT_EQ(format_dkp_timestamp(ns(kSecond, 1'000), 0), "2025-01-15T07:20:30.000001+00:00");
  EXPECT_EQ(format_dkp_timestamp(ns(kSecond, 1), 0), "2025-01-15T07:20:30.000000001+00:00");
  EXPECT_EQ(format_dkp_timestamp(ns(kSecond, 130'000'000), 0), "2025-01-15T07:20:30.130+00:00");
  EXPECT_EQ(format_dkp_timestamp(ns(kSecond, 130'512'000), 0), "2025-01-15T07:20:30.130512+00:00");
}

TEST(DkpTimestamp, UtcIsPlusZeroNeverZ) {
  EXPECT_EQ(format_dkp_timestamp(0, 0), "1970-01-01T00:00:00+00:00");
}

TEST(DkpTimestamp, NegativeAndHalfHourOffsetsCrossDays) {
  EXPECT_EQ(format_dkp_timestamp(ns(kSecond, 5'000'000), -8 * 3600), "2025-01-14T23:20:30.005-08:00");
  EXPECT_EQ(format_dkp_timestamp(ns(kSecond, 0), 5 * 3600 + 1800), "2025-01-15T12:50:30+05:30");
  EXPECT_EQ(format_dkp_timestamp(ns(1709164800, 0), 0), "2024-02-29T00:00:00+00:00");  // a leap day
}

TEST(DkpTimestamp, BeforeTheEpoch) {
  EXPECT_EQ(format_dkp_timestamp(-1, 0), "1969-12-31T23:59:59.999999999+00:00");
}

}  // namespace
}  // namespace kumasim::formats

namespace kumasim::formats {
namespace {

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
  EXPECT_EQ(parse_rfc3339("2025-01-15T07:20:30.130512345Z"), 1736925630130512345LL);
  EXPECT_EQ(parse_rfc3339("2025-01-15T10:20:30.130512345+03:00"), 1736925630130512345LL);
  EXPECT_EQ(parse_rfc3339("2025-01-14T23:20:30.1-08:00"), 1736925630100000000LL);
  EXPECT_EQ(parse_rfc3339("1970-01-01t00:00:00z"), 0);
  EXPECT_EQ(parse_rfc3339("2025-01-15T07:20:30.1234567891Z"), 1736925630123456789LL);  // digits past 9 ignored
}

TEST(Rfc3339, RoundTripsTheDkpTimestamp) {
  for (std::int64_t n : {0LL, 1'000'000LL, 1'000LL, 1LL, 130'512'345LL}) {
    const std::int64_t at = 1736925630LL * 1'000'000'000 + n;
    EXPECT_EQ(parse_rfc3339(format_dkp_timestamp(at, 3 * 3600)), at);
  }
}

TEST(Rfc3339, RejectsWhatIsNotADateTime) {
  for (const char* bad : {"", "2025-01-15", "2025-01-15 07:20:30Z", "2025-02-30T00:00:00Z", "2025-01-15T24:00:00Z",
                          "2025-01-15T07:20:30", "2025-01-15T07:20:30.Z", "2025-01-15T07:20:30+3:00",
                          "2025-01-15T07:20:30Zjunk", "2025-01-15T07:20:30+03:00 "}) {
    EXPECT_EQ(parse_rfc3339(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace kumasim::formats
