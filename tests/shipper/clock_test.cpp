// The injectable clock and the time zone of the `timestamp` string (dkp-log-shipper.md §1, §10.1).
#include "shipper/pipeline/clock.h"

#include <gtest/gtest.h>

namespace kumasim::shipper {
namespace {

template <class T>
T parsed(std::variant<T, std::string> v) {
  if (auto* error = std::get_if<std::string>(&v)) ADD_FAILURE() << *error;
  return std::get<T>(v);
}

TEST(Clock, FixedAlwaysReadsTheSame) {
  auto clock = parsed(Clock::parse("fixed:2025-01-15T07:20:30.130512345Z"));
  EXPECT_EQ(clock.now_ns(), 1736925630130512345LL);
  EXPECT_EQ(clock.now_ns(), 1736925630130512345LL);
}

TEST(Clock, StepAdvancesFromItsStart) {
  auto clock = parsed(Clock::parse("step:1000@2025-01-15T07:20:30Z"));
  EXPECT_EQ(clock.now_ns(), 1736925630000000000LL);
  EXPECT_EQ(clock.now_ns(), 1736925630000001000LL);
  auto real_start = parsed(Clock::parse("step:5"));
  const auto first = real_start.now_ns();
  EXPECT_EQ(real_start.now_ns(), first + 5);
}

TEST(Clock, BadSpecsNameTheProblem) {
  for (const char* bad : {"fixed:yesterday", "step:-1", "step:x", "step:1@noon", "wall"}) {
    auto result = Clock::parse(bad);
    ASSERT_TRUE(std::holds_alternative<std::string>(result)) << bad;
    EXPECT_NE(std::get<std::string>(result).find("--clock"), std::string::npos);
  }
}

TEST(TimeZone, FixedOffsets) {
  EXPECT_EQ(parsed(TimeZone::parse("+03:00")).offset_at(0), 10800);
  EXPECT_EQ(parsed(TimeZone::parse("-0530")).offset_at(0), -19800);
  EXPECT_EQ(parsed(TimeZone::parse("UTC")).offset_at(0), 0);
}

TEST(TimeZone, IanaNamesFollowDaylightSaving) {
  auto berlin = TimeZone::parse("Europe/Berlin");
  if (std::holds_alternative<std::string>(berlin)) GTEST_SKIP() << "no tz database: " << std::get<std::string>(berlin);
  auto zone = std::get<TimeZone>(berlin);
  EXPECT_EQ(zone.offset_at(1736925630LL * 1'000'000'000), 3600);  // January
  EXPECT_EQ(zone.offset_at(1752566400LL * 1'000'000'000), 7200);  // July
}

TEST(TimeZone, UnknownNamesAreRefused) {
  EXPECT_TRUE(std::holds_alternative<std::string>(TimeZone::parse("Mars/Olympus")));
  EXPECT_TRUE(std::holds_alternative<std::string>(TimeZone::parse("../../etc/passwd")));
  EXPECT_TRUE(std::holds_alternative<std::string>(TimeZone::parse("+25:00")));
}

}  // namespace
}  // namespace kumasim::shipper
