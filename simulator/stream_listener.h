// TCP and TLS listeners, as KUMA's tcp connector: many concurrent
// connections, each framed on its own, frames split across reads, half-closed
// and reset connections, data after the last delimiter kept (§2.1).
#pragma once

#include "simulator/asio.h"
#include "simulator/frame_recorder.h"

#include <memory>

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

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kumasim::sim
