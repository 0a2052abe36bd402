// Standard base64 (RFC 4648, with padding), for raw bytes that are not UTF-8
// in JSON output.
#pragma once

#include <string>
#include <string_view>

namespace kumasim::sim {

std::string base64_encode(std::string_view bytes);

}  // namespace kumasim::sim
