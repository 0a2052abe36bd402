#include "formats/utf8.h"

#include <gtest/gtest.h>

namespace kumasim::formats::utf8 {
namespace {

TEST(Utf8, AcceptsValidSequencesOfEveryLength) {
  EXPECT_TRUE(is_valid(""));
  EXPECT_TRUE(is_valid("plain ascii text that is longer than eight bytes"));
  EXPECT_TRUE(is_valid("\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF \xEF\xBB\xBF"));
}

TEST(Utf8, RejectsOverlongsSurrogatesAndOutOfRange) {
  for (const char* bad : {"\xC0\x80", "\xC1\xBF", "\xE0\x9F\xBF", "\xED\xA0\x80", "\xF0\x8F\xBF\xBF",
                          "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFF", "\x80", "\xC3", "\xE2\x82"}) {
    EXPECT_FALSE(is_valid(bad)) << bad;
  }
}

TEST(Utf8, ValidPrefixStopsAtTheFirstBadByte) {
  EXPECT_EQ(valid_prefix("abcdefghij\xC3\xA9k\xFFz"), 13u);
  EXPECT_EQ(valid_prefix("\xF0\x9F\x98"), 0u);
}

TEST(Utf8, LossyReplacesEachMaximalInvalidSubpart) {
  // The examples of Unicode §3.9 "U+FFFD substitution of maximal subparts".
  std::string out;
  append_lossy("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64", out);
  EXPECT_EQ(out, "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD" "c\xEF\xBF\xBD\xEF\xBF\xBD" "d");
}

TEST(Utf8, CountsCodePoints) {
  EXPECT_EQ(code_points("h\xC3\xA9llo \xF0\x9F\x98\x80"), 7u);
}

}  // namespace
}  // namespace kumasim::formats::utf8
