#include "shipper/delivery/stream_connection.h"

#include "shipper/delivery/net.h"

#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>

namespace kumasim::shipper {

namespace {

// Receivers of log streams send nothing; what arrives anyway is read in
// chunks of this size and thrown away.
constexpr std::size_t kDiscardChunk = 4096;

class PlainConnection final : public StreamConnection {
 public:
  using StreamConnection::StreamConnection;

  Io write(std::string_view data) override {
    const ssize_t n = ::send(fd(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      written_ += static_cast<std::uint64_t>(n);
      return {static_cast<std::size_t>(n), 0, {}};
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return {0, POLLOUT, {}};
    return {0, 0, n < 0 ? errno_text(errno) : "the socket took no bytes"};
  }
  std::uint64_t wire_written() const override { return written_; }

 protected:
  Input discard_input(std::string& reason) override {
    std::array<char, kDiscardChunk> chunk;
    for (;;) {
      const ssize_t n = ::recv(fd(), chunk.data(), chunk.size(), MSG_DONTWAIT);
      if (n > 0) continue;
      if (n == 0) {
        reason = "closed by the peer";
        return Input::closed;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Input::open;
      reason = errno_text(errno);
      return Input::failed;
    }
  }

 private:
  std::uint64_t written_ = 0;
};

class TlsConnection final : public StreamConnection {
 public:
  TlsConnection(Fd fd, SslSession session) : StreamConnection(std::move(fd)), ssl_(std::move(session)) {}

  Io write(std::string_view data) override {
    clear_errors();
    const int n = SSL_write(ssl_.get(), data.data(), static_cast<int>(data.size()));
    if (n > 0) return {static_cast<std::size_t>(n), 0, {}};
    switch (SSL_get_error(ssl_.get(), n)) {
      case SSL_ERROR_WANT_WRITE: return {0, POLLOUT, {}};
      case SSL_ERROR_WANT_READ: return {0, POLLIN, {}};
      default: return {0, 0, tls_error(ssl_.get(), n)};
    }
  }
  std::uint64_t wire_written() const override { return BIO_number_written(SSL_get_wbio(ssl_.get())); }

 protected:
  // Session tickets and alerts are TLS records too: SSL_read() processes them.
  Input discard_input(std::string& reason) override {
    std::array<char, kDiscardChunk> chunk;
    for (;;) {
      clear_errors();
      const int n = SSL_read(ssl_.get(), chunk.data(), static_cast<int>(chunk.size()));
      if (n > 0) continue;
      const int error = SSL_get_error(ssl_.get(), n);
      if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return Input::open;
      reason = tls_error(ssl_.get(), n);
      return error == SSL_ERROR_ZERO_RETURN ? Input::closed : Input::failed;
    }
  }

 private:
  SslSession ssl_;
};

int pending_error(int fd) {
  int error = 0;
  socklen_t size = sizeof error;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
  return error;
}

}  // namespace

Observation StreamConnection::observe() {
  Observation seen;
  int unacked = 0;
  if (::ioctl(fd(), SIOCOUTQ, &unacked) != 0) {
    seen.broken = true;
    seen.reason = "cannot read the send queue: " + errno_text(errno);
    return seen;
  }
  const std::uint64_t written = wire_written();
  pollfd p{fd(), POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) < 0) p.revents = POLLERR;
  if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
    const int error = pending_error(fd());
    seen.broken = true;
    seen.reason = error != 0 ? errno_text(error) : "the connection was reset";
    return seen;
  }
  if (p.revents & POLLIN) {
    switch (discard_input(seen.reason)) {
      case Input::open: break;
      case Input::closed: seen.peer_closed = true; break;
      case Input::failed: seen.broken = true; return seen;
    }
  }
  if ((p.revents & POLLRDHUP) && !seen.peer_closed) {
    seen.peer_closed = true;
    seen.reason = "closed by the peer";
  }
  seen.acked = written - static_cast<std::uint64_t>(unacked);
  return seen;
}

std::unique_ptr<StreamConnection> plain_connection(Fd fd) { return std::make_unique<PlainConnection>(std::move(fd)); }

std::unique_ptr<StreamConnection> tls_connection(Fd fd, SslSession session) {
  return std::make_unique<TlsConnection>(std::move(fd), std::move(session));
}

}  // namespace kumasim::shipper
