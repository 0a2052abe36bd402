// A fault injected into a running TCP or TLS listener (docs/api.md, "Listener
// faults"; POST /api/v1/listeners/NAME/faults and Server::inject_listener_fault),
// as the scenario runner needs them: a collector that drops its connections,
// refuses new ones for a while, reads slowly, or fails TLS handshakes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

namespace kumasim::sim {

struct ListenerFault {
  enum class Kind {
    // Ends every connection open on the listener now, as a collector that
    // closes cleanly: the peer reads the end of the stream (FIN) and the
    // listener reads on until the peer closes too (5 s at most), so nothing sent
    // before the peer noticed is lost. What was read is kept (a partial frame as
    // when the peer closes: frame-unterminated).
    drop_connections,
    // Closes the listening socket for `duration`, so that connection attempts
    // are refused (ECONNREFUSED), then listens again on the same port. Open
    // connections stay up. A port taken meanwhile is counted (accept_errors)
    // and tried again every second.
    refuse_connections,
    // For `duration`, the listener's connections together read at most
    // `bytes_per_second` (the rate is per listener, not per connection), so the
    // senders' TCP windows fill and they block.
    slow_reader,
    // TLS listeners: for `duration`, the handshake of each connection accepted
    // is answered with a fatal handshake_failure alert and the connection is
    // closed; counted in tls_failures.
    fail_tls_handshakes,
  };
  Kind kind = Kind::drop_connections;
  // refuse_connections, slow_reader, fail_tls_handshakes. A fault of the same
  // kind replaces the one in effect; 0 ends it.
  std::chrono::milliseconds duration{0};
  std::uint64_t bytes_per_second = 0;  // slow_reader: > 0
};

// "drop_connections", "refuse_connections", "slow_reader", "fail_tls_handshakes".
constexpr std::string_view to_string(ListenerFault::Kind kind) {
  switch (kind) {
    case ListenerFault::Kind::drop_connections: return "drop_connections";
    case ListenerFault::Kind::refuse_connections: return "refuse_connections";
    case ListenerFault::Kind::slow_reader: return "slow_reader";
    case ListenerFault::Kind::fail_tls_handshakes: return "fail_tls_handshakes";
  }
  return "?";
}

// Longest duration a listener fault may be given (one hour).
inline constexpr std::chrono::milliseconds kMaxListenerFaultDuration{3600 * 1000};

}  // namespace kumasim::sim
