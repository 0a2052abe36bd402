#include "formats/framing.h"
#include "support/frames.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace kumasim::formats {
namespace {

using Got = kumasim::testing::OwnedFrame;

Got ok(std::string bytes, std::uint64_t offset, bool counted = false) {
  const auto size = bytes.size();
  return {std::move(bytes), FrameStatus::ok, offset, size, counted, false};
}

std::vector<Got> frame(const FramingConfig& config, std::string_view stream, const std::vector<std::size_t>& cuts = {}) {
  return kumasim::testing::frame_stream(config, stream, cuts);
}

FramingConfig delimited(char d = '\n', std::size_t max = 1024) { return {FramingMode::delimiter, d, max}; }
FramingConfig octet(std::size_t max = 1024) { return {FramingMode::octet, '\n', max}; }
FramingConfig automatic(std::size_t max = 1024) { return {FramingMode::automatic, '\n', max}; }

TEST(Framing, CutsAtEveryDelimiterAndRemovesIt) {
  EXPECT_EQ(frame(delimited(), "a\nbc\n"), (std::vector<Got>{ok("a", 0), ok("bc", 2)}));
}

TEST(Framing, KeepsCarriageReturnBeforeLf) {
  EXPECT_EQ(frame(delimited(), "a\r\n"), (std::vector<Got>{ok("a\r", 0)}));
}

TEST(Framing, TabAndNulDelimiters) {
  EXPECT_EQ(frame(delimited('\t'), "a\tb\n\t"), (std::vector<Got>{ok("a", 0), ok("b\n", 2)}));
  EXPECT_EQ(frame(delimited('\0'), std::string_view("x\0y\0", 4)), (std::vector<Got>{ok("x", 0), ok("y", 2)}));
}

TEST(Framing, ReportsEmptyFrames) {
  const auto got = frame(delimited(), "a\n\nb\n");
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].status, FrameStatus::empty);
  EXPECT_EQ(got[1].offset, 2u);
}

TEST(Framing, ReportsUnterminatedTailAtFinish) {
  const auto got = frame(delimited(), "a\nbc");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1], (Got{"bc", FrameStatus::ok, 2, 2, false, true}));
}

TEST(Framing, NothingPendingAfterTrailingDelimiter) {
  EXPECT_EQ(frame(delimited(), "a\n").size(), 1u);
  EXPECT_TRUE(frame(delimited(), "").empty());
}

TEST(Framing, OversizeFrameIsReportedWithItsSizeAndFramesAfterItSurvive) {
  const std::string big(50, 'x');
  for (std::vector<std::size_t> cuts : {std::vector<std::size_t>{}, {10}, {10, 20, 30, 40, 51}}) {
    const auto got = frame(delimited('\n', 16), big + "\nok\n", cuts);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], (Got{big.substr(0, 16), FrameStatus::oversize, 0, 50, false, false}));
    EXPECT_EQ(got[1], ok("ok", 51));
  }
}

TEST(Framing, FrameOfExactlyMaxSizeIsOk) {
  EXPECT_EQ(frame(delimited('\n', 4), "abcd\n"), (std::vector<Got>{ok("abcd", 0)}));
}

TEST(Framing, UnterminatedHugeFrameKeepsMemoryBounded) {
  Framer framer(delimited('\n', 64));
  const std::string chunk(1 << 16, 'z');
  std::vector<Got> got;
  auto sink = [&](const Frame& f) { got.push_back({std::string(f.bytes), f.status, f.offset, f.size, false, f.unterminated}); };
  for (int i = 0; i < 64; ++i) framer.feed(chunk, sink);  // 4 MiB without a delimiter
  EXPECT_TRUE(got.empty());
  framer.finish(sink);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, FrameStatus::oversize);
  EXPECT_EQ(got[0].size, 64u << 16);
  EXPECT_EQ(got[0].bytes.size(), 64u);
  EXPECT_TRUE(got[0].unterminated);
}

TEST(Framing, OctetCountingCountsOctetsNotCharacters) {
  const std::string msg = "<1>1 - - - - - - hell\xC3\xB8";  // 23 octets, 22 characters
  ASSERT_EQ(msg.size(), 23u);
  EXPECT_EQ(frame(octet(), "23 " + msg), (std::vector<Got>{ok(msg, 0, true)}));
}

TEST(Framing, OctetCountedFrameMayContainTheDelimiter) {
  EXPECT_EQ(frame(octet(), "3 a\nb2 cd"), (std::vector<Got>{ok("a\nb", 0, true), ok("cd", 5, true)}));
}

TEST(Framing, BadOctetCountResynchronisesOnTheDelimiter) {
  for (std::string_view bad : {"12x3\n", "x\n", "012 ab\n", " 3 abc\n", "12345678901 a\n"}) {
    const auto got = frame(octet(), std::string(bad) + "2 ok");
    ASSERT_EQ(got.size(), 2u) << bad;
    EXPECT_EQ(got[0].status, FrameStatus::bad_octet_count) << bad;
    EXPECT_EQ(got[0].bytes, bad.substr(0, bad.size() - 1)) << bad;
    EXPECT_EQ(got[1], ok("ok", bad.size(), true)) << bad;
  }
}

TEST(Framing, OversizeOctetCountedFrameIsSkippedExactly) {
  const auto got = frame(octet(4), "10 0123456789" "2 ok");
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], (Got{"0123", FrameStatus::oversize, 0, 10, true, false}));
  EXPECT_EQ(got[1], ok("ok", 13, true));
}

TEST(Framing, StreamEndingInsideACountedFrameIsUnterminated) {
  const auto got = frame(octet(), "10 abc");
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], (Got{"abc", FrameStatus::ok, 0, 3, true, true}));
  const auto digits = frame(octet(), "12");
  ASSERT_EQ(digits.size(), 1u);
  EXPECT_EQ(digits[0], (Got{"12", FrameStatus::bad_octet_count, 0, 2, false, true}));
}

TEST(Framing, AutoDetectsPerFrame) {
  EXPECT_EQ(frame(automatic(), "<1>a\n3 xyz<2>b\n0\n"),
            (std::vector<Got>{ok("<1>a", 0), ok("xyz", 5, true), ok("<2>b", 10), ok("0", 15)}));
}

// Every frame sequence must be the same however the stream is cut into reads.
void expect_split_invariant(const FramingConfig& config, std::string_view stream) {
  const auto whole = frame(config, stream);
  const std::size_t n = stream.size();
  ASSERT_LE(n, 20u) << "exhaustive splitting is for short streams";
  for (std::uint32_t mask = 0; mask < (1u << (n - 1)); ++mask) {
    std::vector<std::size_t> cuts;
    for (std::size_t i = 1; i < n; ++i) {
      if (mask & (1u << (i - 1))) cuts.push_back(i);
    }
    ASSERT_EQ(frame(config, stream, cuts), whole) << "mask " << mask;
  }
}

TEST(Framing, EverySplitOfAStreamGivesTheSameFrames) {
  expect_split_invariant(delimited('\n', 4), "ab\n\ncdefgh\ni");
  expect_split_invariant(octet(4), "2 ab6 cdefgh1 x");
  expect_split_invariant(octet(8), "3 a\nbx7\n1 z12");
  expect_split_invariant(automatic(5), "<a\n2 bc\n9x\n4 abcd");
}

TEST(Framing, EveryTwoAndThreeWaySplitOfALongerStream) {
  std::string stream;
  for (int i = 0; i < 6; ++i) stream += "<14>1 host app - - - message " + std::to_string(i) + "\n";
  const FramingConfig config = delimited('\n', 24);
  const auto whole = frame(config, stream);
  ASSERT_EQ(whole.size(), 6u);
  for (std::size_t a = 1; a < stream.size(); ++a) {
    ASSERT_EQ(frame(config, stream, {a}), whole) << a;
    for (std::size_t b = a + 1; b < stream.size(); b += 7) ASSERT_EQ(frame(config, stream, {a, b}), whole);
  }
}

TEST(Framing, PositionCountsEveryByteFed) {
  Framer framer;
  framer.feed("abc\nde", [](const Frame&) {});
  EXPECT_EQ(framer.position(), 6u);
}

}  // namespace
}  // namespace kumasim::formats
