// The worked example of dkp-log-shipper.md §13, shared by the encoder and
// decoder tests: the kubelet audit line L and the events DKP builds from it
// (node master-0, host IP 10.0.0.5, pod log-shipper-agent-7xk2p, UTC+03:00).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace kumasim::testing {

// L, 355 bytes, without its LF.
extern const std::string kAuditLine;
// The `timestamp` string DKP writes for the read time 2025-01-15T07:20:30.130512345Z.
extern const std::string kReadTimestamp;
// The final gen-c and gen-b File events for L before encoding (§6.2).
nlohmann::json gen_c_event();
nlohmann::json gen_b_event();

}  // namespace kumasim::testing
