// UTF-8 validity and lossy repair, shared by the decoders (lint non-utf8) and
// the JSON encoder (serde_json / String::from_utf8_lossy replacement rules).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kumasim::formats::utf8 {

// Length of the longest valid UTF-8 prefix; equals text.size() when valid.
std::size_t valid_prefix(std::string_view text);

inline bool is_valid(std::string_view text) { return valid_prefix(text) == text.size(); }

// Appends `text` to `out`, replacing each maximal invalid subsequence with
// U+FFFD (EF BF BD), exactly as Rust's String::from_utf8_lossy does.
void append_lossy(std::string_view text, std::string& out);

// Number of code points in valid UTF-8 text (counts the bytes that are not
// continuation bytes, so a stray continuation byte counts nothing).
std::size_t code_points(std::string_view text);

}  // namespace kumasim::formats::utf8
