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
