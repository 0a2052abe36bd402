// GELF as DKP log-shipper sends it (dkp-log-shipper.md §10.6): DKP's
// preparation program (host fallback, flattening, values as strings) followed
// by Vector's GELF encoder (version, short_message, `_` prefixes, timestamp
// in seconds). One compact JSON object with sorted keys; framing is separate.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>

namespace kumasim::formats::gelf {

enum class EncodeError {
  host_missing,       // Vector refuses an event without `host`
  timestamp_invalid,  // `timestamp` does not parse back into a time
};

// Encodes `event` (the event after the pipeline's earlier steps) into `out`
// (cleared first), or says why the event is dropped.
std::optional<EncodeError> encode(const nlohmann::json& event, std::string& out);

}  // namespace kumasim::formats::gelf
