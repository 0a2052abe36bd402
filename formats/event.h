// The shipper's event as the encoders see it: a JSON object (nlohmann::json,
// whose std::map keeps keys in byte order, the order Vector writes), a value
// at a dotted path, and numbers written as Rust writes them.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

namespace kumasim::formats::event {

// The value at `dotted_path` ("host", "cef.severity"), walking nested objects;
// nullptr when a step is missing or is not an object.
const nlohmann::json* find(const nlohmann::json& event, std::string_view dotted_path);

// Rust's f64 Display, which VRL's to_string and Vector's CEF encoder use: the
// shortest round-trip digits, always positional, no ".0" for whole numbers.
std::string rust_float(double value);

}  // namespace kumasim::formats::event
