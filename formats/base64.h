// Standard base64 (RFC 4648 alphabet, with padding): raw bytes that are not
// UTF-8 in the simulator's JSON output, and the TLS material DKP manifests
// carry (dkp-log-shipper.md §3.3).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kumasim::formats {

std::string base64_encode(std::string_view bytes);

// Decoding as Go's base64.StdEncoding: CR and LF skipped, then a length that
// is a multiple of 4, padding only at the end, nothing outside the alphabet. nullopt when the text is not valid.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace kumasim::formats
