#include "support/line_receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace kumasim::testing {
namespace {

int bound_socket(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) throw std::runtime_error("bind failed");
  return fd;
}

}  // namespace

LineReceiver::LineReceiver(bool listen_now) {
  listener_ = bound_socket(0);
  sockaddr_in address{};
  socklen_t size = sizeof address;
  ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
  port_ = ntohs(address.sin_port);
  if (listen_now) listen();
  thread_ = std::thread([this] { serve(); });
}

LineReceiver::~LineReceiver() {
  stop_ = true;
  thread_.join();
  if (listener_ >= 0) ::close(listener_);
}

void LineReceiver::listen() {
  std::lock_guard lock(mutex_);
  if (listener_ < 0) listener_ = bound_socket(port_);
  ::listen(listener_, 16);
  listening_ = true;
}

void LineReceiver::close_connections() {
  drop_ = true;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (drop_ && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

std::vector<std::string> LineReceiver::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

std::size_t LineReceiver::count() const {
  std::lock_guard lock(mutex_);
  return lines_.size();
}

void LineReceiver::serve() {
  struct Connection {
    int fd;
    std::string partial;
  };
  std::vector<Connection> connections;
  char buffer[65536];
  const auto read_all = [&](Connection& c) {  // false at EOF or error
    for (;;) {
      const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
      c.partial.append(buffer, static_cast<std::size_t>(n));
      std::size_t start = 0;
      std::lock_guard lock(mutex_);
      for (std::size_t lf; (lf = c.partial.find('\n', start)) != std::string::npos; start = lf + 1)
        lines_.emplace_back(c.partial, start, lf - start);
      c.partial.erase(0, start);
    }
  };
  while (!stop_) {
    if (drop_) {
      for (auto& c : connections) {
        read_all(c);
        ::close(c.fd);
      }
      connections.clear();
      std::lock_guard lock(mutex_);
      ::close(listener_);
      listener_ = -1;
      listening_ = false;
      drop_ = false;
    }
    std::vector<pollfd> fds;
    int listener = -1;
    {
      std::lock_guard lock(mutex_);
      if (listening_) listener = listener_;
    }
    if (listener >= 0) fds.push_back({listener, POLLIN, 0});
    for (const auto& c : connections) fds.push_back({c.fd, POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 10) <= 0) continue;
    if (listener >= 0 && (fds[0].revents & POLLIN)) {
      if (const int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC); fd >= 0) {
        connections.push_back({fd, {}});
        ++connections_;
      }
    }
    for (auto it = connections.begin(); it != connections.end();) {
      if (read_all(*it)) {
        ++it;
      } else {
        ::close(it->fd);
        it = connections.erase(it);
      }
    }
  }
  for (auto& c : connections) ::close(c.fd);
}

}  // namespace kumasim::testing
