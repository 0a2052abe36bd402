#include "formats/utf8.h"

#include <cstdint>

namespace kumasim::formats::utf8 {
namespace {

// Length of the valid sequence starting at p (p < end), or 0 when invalid.
// Also reports in `maximal` how many bytes form the maximal invalid subpart
// (Unicode §3.9 / from_utf8_lossy), used for U+FFFD replacement.
std::size_t sequence_length(const unsigned char* p, const unsigned char* end, std::size_t& maximal) {
  const unsigned char b0 = p[0];
  maximal = 1;
  if (b0 < 0x80) return 1;
  std::size_t need;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  for (std::size_t i = 1; i < need; ++i) {
    if (p + i >= end) return 0;
    const unsigned char b = p[i];
    const unsigned char min = i == 1 ? lo : 0x80, max = i == 1 ? hi : 0xBF;
    if (b < min || b > max) return 0;
    maximal = i + 1;
  }
  return need;
}

}  // namespace

std::size_t valid_prefix(std::string_view text) {
  auto* p = reinterpret_cast<const unsigned char*>(text.data());
  auto* end = p + text.size();
  auto* start = p;
  while (p < end) {
    // Fast path over ASCII, eight bytes at a time.
    while (end - p >= 8) {
      std::uint64_t word;
      __builtin_memcpy(&word, p, 8);
      if (word & 0x8080808080808080ULL) break;
      p += 8;
    }
    if (p == end) break;
    std::size_t maximal;
    const std::size_t n = sequence_length(p, end, maximal);
    if (n == 0) break;
    p += n;
  }
  return static_cast<std::size_t>(p - start);
}

void append_lossy(std::string_view text, std::string& out) {
  while (!text.empty()) {
    const std::size_t good = valid_prefix(text);
    out.append(text.data(), good);
    text.remove_prefix(good);
    if (text.empty()) break;
    std::size_t maximal;
    sequence_length(reinterpret_cast<const unsigned char*>(text.data()),
                    reinterpret_cast<const unsigned char*>(text.data() + text.size()), maximal);
    out.append("\xEF\xBF\xBD");
    text.remove_prefix(maximal);
  }
}

std::size_t code_points(std::string_view text) {
  std::size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

}  // namespace kumasim::formats::utf8
