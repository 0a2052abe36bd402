// Vector's Text codec as DKP log-shipper uses it (dkp-log-shipper.md §10.5):
// the `message` field and nothing else.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace kumasim::formats::text {

// The message into `out` (cleared first): a string as its bytes, a scalar as
// VRL writes it, an object or array as JSON; an absent message gives nothing.
void encode(const nlohmann::json& event, std::string& out);

}  // namespace kumasim::formats::text
