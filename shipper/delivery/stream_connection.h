// One TCP connection of a Socket destination, plain or TLS, as the TCP sink
// needs it: non-blocking writes, and how much of what was written the peer
// has acknowledged.
//
// The acknowledgement is TCP's, read with ioctl(SIOCOUTQ) (Linux: bytes
// written but not yet acknowledged). It is what lets the sink resend, after
// a reconnection, what a broken connection never delivered; DKP loses those
// messages (§11.1). Bytes the peer's kernel acknowledged but its application
// never read are still lost when the peer dies; nothing in TCP tells them
// apart.
#pragma once

#include "shipper/fd.h"
#include "shipper/delivery/tls_client.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace kumasim::shipper {

struct Observation {
  bool broken = false;       // an error or a reset: `acked` cannot be trusted
  bool peer_closed = false;  // the peer closed in order: `acked` holds, and no more will be
  std::uint64_t acked = 0;   // wire bytes of this connection the peer's TCP has acknowledged
  std::string reason;        // why broken or closed
};

class StreamConnection {
 public:
  explicit StreamConnection(Fd fd) : fd_(std::move(fd)) {}
  virtual ~StreamConnection() = default;

  int fd() const { return fd_.get(); }

  struct Io {
    std::size_t written = 0;  // > 0: progress
    short wait_for = 0;       // else, when non-zero: poll() for these events and call again with the same data
    std::string error;        // else the connection is broken
  };
  virtual Io write(std::string_view data) = 0;
  // Bytes written to the socket since the connection opened (for TLS: record
  // bytes, handshake included), the scale of Observation::acked.
  virtual std::uint64_t wire_written() const = 0;

  // Measures the acknowledged bytes, then checks the connection. The order
  // matters: a reset purges the send queue so SIOCOUTQ reads 0, and a
  // measurement is trusted only if the connection is still healthy after it.
  // Whatever the peer sent is read and discarded.
  Observation observe();

 protected:
  enum class Input { open, closed, failed };
  virtual Input discard_input(std::string& reason) = 0;

 private:
  Fd fd_;
};

std::unique_ptr<StreamConnection> plain_connection(Fd fd);
// TLS records count as written when SSL_write() returns, so a plaintext
// message is acknowledged once the wire offset at the end of its write is.
std::unique_ptr<StreamConnection> tls_connection(Fd fd, SslSession session);

}  // namespace kumasim::shipper
