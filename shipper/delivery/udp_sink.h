// Socket destination, mode UDP (dkp-log-shipper.md §11.2): one datagram per
// message, no terminator, never TLS. A datagram the kernel refuses (EMSGSIZE
// beyond 65,507 bytes over IPv4, or ECONNREFUSED after an ICMP error from the
// receiver) is dropped and counted; after EMSGSIZE the socket is re-created,
// as Vector does.
#pragma once

#include "shipper/fd.h"
#include "shipper/delivery/sink.h"

#include <sys/socket.h>

#include <vector>

namespace kumasim::shipper {

class UdpSink final : public Sink {
 public:
  UdpSink(SinkContext context, SocketSpec socket);
  void run() override;

 private:
  bool open();
  // Sends the last `count` in-flight messages; returns how many are done
  // (sent or dropped). Fewer than `count` when the socket must be re-created.
  std::size_t send(std::size_t count);

  SinkContext context_;
  const SocketSpec socket_;
  Backoff backoff_;
  StateLog state_;
  Fd fd_;
  std::vector<mmsghdr> headers_;  // reused by every sendmmsg()
  std::vector<iovec> parts_;
};

}  // namespace kumasim::shipper
