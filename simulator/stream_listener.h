// TCP and TLS listeners, as KUMA's tcp connector: many concurrent
// connections, each framed on its own, frames split across reads, half-closed
// and reset connections, data after the last delimiter kept (§2.1).
#pragma once

#include "simulator/asio.h"
#include "simulator/frame_recorder.h"
#include "simulator/listener_fault.h"

#include <memory>
#include <optional>
#include <string>

namespace kumasim::sim {

// Binds the listener's address (port 0: an ephemeral port) and accepts
// connections on `io` until the acceptor is closed. Returns the bound endpoint.
// TLS listeners load their certificate and key here (errors name the file).
class StreamListener {
 public:
  StreamListener(asio::io_context& io, ListenerContext& listener);
  ~StreamListener();
  asio::ip::tcp::endpoint endpoint() const;
  void start();
  void stop();

  // Applies `fault` (listener_fault.h) from any thread and returns once it is
  // in effect: after drop_connections every connection open before the call
  // is closed, after refuse_connections new connections are refused. From one
  // of the I/O threads of `io` it returns at once, without waiting. An error
  // message when the fault does not apply (fail_tls_handshakes on a plain
  // listener, a zero rate).
  std::optional<std::string> inject(const ListenerFault& fault);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kumasim::sim
