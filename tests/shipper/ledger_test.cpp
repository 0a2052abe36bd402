// The ledger that keeps checkpoints behind undelivered lines (docs/shipper.md, "File source").
#include "shipper/ledger.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace kumasim::shipper {
namespace {

constexpr std::uint64_t kAllDone = std::numeric_limits<std::uint64_t>::max();

std::vector<std::uint64_t> settle(Ledger& ledger, std::uint64_t done_below) {
  std::vector<std::uint64_t> offsets;
  ledger.settle(done_below, [&](std::size_t, const FilePosition& end) { offsets.push_back(end.offset); });
  return offsets;
}

TEST(Ledger, CommitsHandedLinesBelowTheDestinationsFloor) {
  Ledger ledger;
  for (std::uint64_t i = 0; i < 5; ++i) ledger.handed(ledger.open(0, {1, (i + 1) * 10}));
  EXPECT_EQ(settle(ledger, 3), (std::vector<std::uint64_t>{10, 20, 30}));  // 3 and 4 still in a buffer
  EXPECT_EQ(ledger.outstanding(), 2u);
  EXPECT_EQ(settle(ledger, kAllDone), (std::vector<std::uint64_t>{40, 50}));
  EXPECT_EQ(ledger.outstanding(), 0u);
}

TEST(Ledger, ALineNotHandedHoldsBackEveryLaterOne) {
  Ledger ledger;
  ledger.handed(ledger.open(0, {1, 10}));
  ledger.open(0, {1, 20});  // a push was refused: never handed
  ledger.handed(ledger.open(0, {1, 30}));  // a later line filtered out must not jump over it
  EXPECT_EQ(settle(ledger, kAllDone), (std::vector<std::uint64_t>{10}));
  EXPECT_EQ(ledger.outstanding(), 2u);
}

TEST(Ledger, StaysBoundedWhileADestinationHoldsOldLines) {
  Ledger ledger;
  const std::uint64_t first = ledger.open(0, {1, 1});  // stays in a buffer for the whole test
  ledger.handed(first);
  for (std::uint64_t i = 2; i <= 3'000'000; ++i) ledger.handed(ledger.open(0, {1, i}));
  EXPECT_TRUE(settle(ledger, first).empty());
  const auto offsets = settle(ledger, kAllDone);
  EXPECT_LE(offsets.size(), std::size_t{1} << 18);  // thinned, not one entry per line
  ASSERT_FALSE(offsets.empty());
  EXPECT_EQ(offsets.back(), 3'000'000u);  // the newest position is kept
  EXPECT_TRUE(std::is_sorted(offsets.begin(), offsets.end()));
}

TEST(Ledger, ThinningNeverCommitsPastAnUndoneLine) {
  Ledger ledger;
  for (std::uint64_t i = 0; i < 600'000; ++i) ledger.handed(ledger.open(0, {1, i + 1}));
  const auto offsets = settle(ledger, 400'000);  // lines 0..399999 are done
  ASSERT_FALSE(offsets.empty());
  EXPECT_LE(offsets.back(), 400'000u);
}

}  // namespace
}  // namespace kumasim::shipper
