#include "shipper/pipeline/rate_limiter.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kumasim::shipper {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kStart = 1'736'925'630 * kSecond;  // any clock origin works

RateLimiter limiter(RateLimitSpec spec) {
  auto result = RateLimiter::compile(spec);
  if (auto* error = std::get_if<FilterError>(&result)) {
    ADD_FAILURE() << error->code << ": " << error->message;
    return std::get<RateLimiter>(RateLimiter::compile(RateLimitSpec{1, std::nullopt, {}}));
  }
  return std::get<RateLimiter>(std::move(result));
}

nlohmann::json event_from(nlohmann::json host) { return {{"host", std::move(host)}, {"message", "m"}}; }

int admitted(RateLimiter& limit, const nlohmann::json& event, std::int64_t now_ns, int attempts) {
  int passed = 0;
  for (int i = 0; i < attempts; ++i) passed += limit.admit(event, now_ns);
  return passed;
}

TEST(RateLimiter, StartsFullThenDrops) {
  RateLimiter limit = limiter(RateLimitSpec{3, std::nullopt, {}});
  const nlohmann::json event = event_from("a");
  EXPECT_TRUE(limit.admit(event, kStart));
  EXPECT_TRUE(limit.admit(event, kStart));
  EXPECT_TRUE(limit.admit(event, kStart));
  EXPECT_FALSE(limit.admit(event, kStart));
  EXPECT_FALSE(limit.admit(event, kStart + kSecond));
}

TEST(RateLimiter, RefillsOneTokenEverySixtyOverNSeconds) {
  RateLimiter limit = limiter(RateLimitSpec{3, std::nullopt, {}});  // one token per 20 s
  const nlohmann::json event = event_from("a");
  EXPECT_EQ(admitted(limit, event, kStart, 5), 3);
  EXPECT_FALSE(limit.admit(event, kStart + 20 * kSecond - 1));
  EXPECT_TRUE(limit.admit(event, kStart + 20 * kSecond));
  EXPECT_FALSE(limit.admit(event, kStart + 20 * kSecond));
  EXPECT_FALSE(limit.admit(event, kStart + 40 * kSecond - 1));
  EXPECT_TRUE(limit.admit(event, kStart + 40 * kSecond));
}

TEST(RateLimiter, IdleBucketRefillsAsGovernorAndVectorsPurgeDo) {
  RateLimiter limit = limiter(RateLimitSpec{3, std::nullopt, {}});
  const nlohmann::json event = event_from("a");
  EXPECT_EQ(admitted(limit, event, kStart, 3), 3);  // TAT is now start + 80 s
  // Stale but not yet purged (the first retain_recent tick is at +120 s):
  // governor admits one more than N.
  EXPECT_EQ(admitted(limit, event, kStart + 100 * kSecond, 10), 4);
  // After a tick has dropped the stale key it starts fresh: N.
  EXPECT_EQ(admitted(limit, event, kStart + 600 * kSecond, 10), 3);
}

TEST(RateLimiter, SteadyRateAtTheLimitPasses) {
  RateLimiter limit = limiter(RateLimitSpec{60, std::nullopt, {}});
  const nlohmann::json event = event_from("a");
  int passed = 0;
  for (int i = 0; i < 600; ++i) passed += limit.admit(event, kStart + i * kSecond);
  EXPECT_EQ(passed, 600);
  // Two per second from a fresh bucket: the 60-token burst, then one per second;
  // the last of the 120 events comes at 59.5 s, after 59 refills.
  RateLimiter busy = limiter(RateLimitSpec{60, std::nullopt, {}});
  passed = 0;
  for (int i = 0; i < 120; ++i) passed += busy.admit(event, kStart + i * (kSecond / 2));
  EXPECT_EQ(passed, 60 + 59);
}

TEST(RateLimiter, PeriodIsVectorsRoundedDuration) {
  // 60/11 s is 5454545454.545... ns: Duration::from_secs_f64 rounds it up.
  RateLimiter eleven = limiter(RateLimitSpec{11, std::nullopt, {}});
  const nlohmann::json event = event_from("a");
  EXPECT_EQ(admitted(eleven, event, kStart, 12), 11);
  EXPECT_FALSE(eleven.admit(event, kStart + 5'454'545'454));
  EXPECT_TRUE(eleven.admit(event, kStart + 5'454'545'455));
  // The double 60/1000 is just below 0.06: rounding still gives 60 ms.
  RateLimiter thousand = limiter(RateLimitSpec{1000, std::nullopt, {}});
  EXPECT_EQ(admitted(thousand, event, kStart, 1001), 1000);
  EXPECT_FALSE(thousand.admit(event, kStart + 59'999'999));
  EXPECT_TRUE(thousand.admit(event, kStart + 60'000'000));
}

TEST(RateLimiter, KeysHaveIndependentBuckets) {
  RateLimiter limit = limiter(RateLimitSpec{1, "host", {}});
  EXPECT_TRUE(limit.admit(event_from("a"), kStart));
  EXPECT_FALSE(limit.admit(event_from("a"), kStart));
  EXPECT_TRUE(limit.admit(event_from("b"), kStart));
  EXPECT_FALSE(limit.admit(event_from("b"), kStart));
  // Events without the key field share one bucket of their own.
  const nlohmann::json keyless = {{"message", "m"}};
  EXPECT_TRUE(limit.admit(keyless, kStart));
  EXPECT_FALSE(limit.admit(keyless, kStart));
  EXPECT_TRUE(limit.admit(event_from("c"), kStart));
  EXPECT_TRUE(limit.admit(event_from("a"), kStart + 60 * kSecond));
}

TEST(RateLimiter, PurgeTicksDropKeyedBucketsToo) {
  RateLimiter limit = limiter(RateLimitSpec{1, "host", {}});  // one token per 60 s
  EXPECT_TRUE(limit.admit(event_from("a"), kStart));       // TAT start + 120 s
  EXPECT_TRUE(limit.admit(event_from("b"), kStart + 10 * kSecond));  // TAT start + 130 s
  // The tick at +120 s drops "a" (TAT <= tick) but keeps "b" (TAT after it).
  EXPECT_EQ(admitted(limit, event_from("a"), kStart + 130 * kSecond, 3), 1);
  EXPECT_EQ(admitted(limit, event_from("b"), kStart + 130 * kSecond, 3), 2);
}

TEST(RateLimiter, KeysAreValuesRenderedAsStrings) {
  RateLimiter limit = limiter(RateLimitSpec{1, "host", {}});
  EXPECT_TRUE(limit.admit(event_from(5), kStart));
  EXPECT_FALSE(limit.admit(event_from("5"), kStart));  // 5 and "5" render alike
  EXPECT_TRUE(limit.admit(event_from(2.0), kStart));
  EXPECT_FALSE(limit.admit(event_from("2"), kStart));  // 2.0 prints as "2"
  EXPECT_TRUE(limit.admit(event_from(true), kStart));
  EXPECT_FALSE(limit.admit(event_from("true"), kStart));
  EXPECT_TRUE(limit.admit(event_from(nullptr), kStart));
  EXPECT_FALSE(limit.admit(event_from("<null>"), kStart));
  EXPECT_TRUE(limit.admit(event_from({{"k", 1}}), kStart));
  EXPECT_FALSE(limit.admit(event_from(R"({"k":1})"), kStart));
  EXPECT_TRUE(limit.admit(event_from(std::string("x\xFF")), kStart));
  EXPECT_FALSE(limit.admit(event_from("x\xEF\xBF\xBD"), kStart));  // lossy UTF-8
}

TEST(RateLimiter, ExcludedEventsBypassWithoutSpendingTokens) {
  RateLimitSpec spec{1, std::nullopt, {}};
  spec.excludes.push_back(FilterSpec{"host", FilterOperator::in, {"vip"}});
  spec.excludes.push_back(FilterSpec{"parsed_data.level", FilterOperator::in, {"RequestResponse"}});
  RateLimiter limit = limiter(spec);
  EXPECT_EQ(admitted(limit, event_from("vip"), kStart, 5), 5);
  EXPECT_TRUE(limit.admit(event_from("a"), kStart));  // the token is still there
  EXPECT_FALSE(limit.admit(event_from("a"), kStart));
  // Matching any one exclude entry is enough; parsed_data only if it exists.
  nlohmann::json logged = event_from("a");
  logged["parsed_data"] = {{"level", "RequestResponse"}};
  EXPECT_TRUE(limit.admit(logged, kStart));
  nlohmann::json unparsed = event_from("a");
  unparsed["level"] = "RequestResponse";
  EXPECT_FALSE(limit.admit(unparsed, kStart));
}

TEST(RateLimiter, InvalidSpecsAreErrors) {
  const auto error = [](RateLimitSpec spec) {
    auto result = RateLimiter::compile(spec);
    return std::holds_alternative<FilterError>(result) ? std::get<FilterError>(result) : FilterError{};
  };
  EXPECT_EQ(error(RateLimitSpec{0, std::nullopt, {}}).code, "rate-limit-zero");
  EXPECT_EQ(error(RateLimitSpec{-5, std::nullopt, {}}).code, "rate-limit-zero");
  EXPECT_EQ(error(RateLimitSpec{std::int64_t{1} << 32, std::nullopt, {}}).code, "rate-limit-invalid");
  RateLimitSpec bad_path{10, std::nullopt, {FilterSpec{"a/b", FilterOperator::exists, {}}}};
  const FilterError path = error(bad_path);
  EXPECT_EQ(path.code, "filter-path-invalid");
  EXPECT_EQ(path.message.rfind("excludes[0]: ", 0), 0u);
  RateLimitSpec bad_regex{10, std::nullopt, {FilterSpec{"host", FilterOperator::regex, {"("}}}};
  EXPECT_EQ(error(bad_regex).code, "regex-invalid");
}

}  // namespace
}  // namespace kumasim::shipper
