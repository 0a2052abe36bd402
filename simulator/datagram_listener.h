// The UDP listener, as KUMA's udp connector (§2.2): one datagram is one event
// (or is split on a configured delimiter). Datagrams are read whole with a
// 64 KiB buffer; one larger than the KUMA buffer is recorded whole with lint
// udp-over-kuma-buffer, and its KUMA view is its first buffer bytes. Kernel
// drops (SO_RXQ_OVFL) are counted.
#pragma once

#include "simulator/asio.h"
#include "simulator/frame_recorder.h"

#include <memory>

namespace kumasim::sim {

class DatagramListener {
 public:
  DatagramListener(asio::io_context& io, ListenerContext& listener);
  ~DatagramListener();
  asio::ip::udp::endpoint endpoint() const;
  void start();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kumasim::sim
