// Errors as values for every decoder in formats/.
//
// Decoders never throw on input and never read past it: they fill an output
// object and return an empty DecodeResult, or return the byte offset at which
// the input stopped making sense and a short static reason.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace kumasim::formats {

struct DecodeError {
  std::size_t offset = 0;   // byte offset into the decoded input
  std::string_view reason;  // static text: "expected SP after PRI"
};

// Empty on success. `if (auto err = decode(...))` reads as "if it failed".
using DecodeResult = std::optional<DecodeError>;

}  // namespace kumasim::formats
