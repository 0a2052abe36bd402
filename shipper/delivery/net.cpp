#include "shipper/delivery/net.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace kumasim::shipper {

namespace {

// Slices of a wait: the longest a stop request may go unnoticed.
constexpr std::chrono::milliseconds kSlice{50};

using AddrInfo = std::unique_ptr<addrinfo, decltype(&freeaddrinfo)>;

// Resolved again for each attempt, so that a changed DNS record is followed.
std::variant<AddrInfo, std::string> resolve(const SocketSpec& socket, int type) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = type;
  addrinfo* list = nullptr;
  const int status = ::getaddrinfo(socket.host.c_str(), std::to_string(socket.port).c_str(), &hints, &list);
  if (status != 0)
    return "cannot resolve " + socket.host + " (" + socket.address + "): " +
           (status == EAI_SYSTEM ? errno_text(errno) : std::string(::gai_strerror(status)));
  return AddrInfo(list, &freeaddrinfo);
}

int socket_error(int fd) {
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) return errno;
  return error;
}

// One address; 0 when connected, else the errno value (or ETIMEDOUT).
int connect_one(const addrinfo& address, const Stopper& stopper, std::chrono::steady_clock::time_point deadline,
                Fd& out) {
  Fd fd(::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, address.ai_protocol));
  if (!fd) return errno;
  if (::connect(fd.get(), address.ai_addr, address.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return errno;
    short revents = 0;
    switch (wait_fd(fd.get(), POLLOUT, stopper, deadline, revents)) {
      case Wait::ready: break;
      case Wait::timeout: return ETIMEDOUT;
      case Wait::stopped: return 0;
    }
    if (const int error = socket_error(fd.get())) return error;
  }
  // Batches are coalesced already; Nagle would only delay the last one.
  const int one = 1;
  ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  out = std::move(fd);
  return 0;
}

}  // namespace

Wait wait_fd(int fd, short events, const Stopper& stopper, std::chrono::steady_clock::time_point deadline,
             short& revents) {
  for (;;) {
    if (stopper.stopped()) return Wait::stopped;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return Wait::timeout;
    const auto slice = std::min<std::chrono::steady_clock::duration>(deadline - now, kSlice);
    pollfd p{fd, events, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(slice).count()));
    if (ready > 0) {
      revents = p.revents;
      return Wait::ready;
    }
    if (ready < 0 && errno != EINTR) {
      revents = POLLERR;
      return Wait::ready;
    }
  }
}

std::variant<Fd, std::string> connect_tcp(const SocketSpec& socket, const Stopper& stopper,
                                          std::chrono::milliseconds timeout) {
  auto resolved = resolve(socket, SOCK_STREAM);
  if (auto* error = std::get_if<std::string>(&resolved)) return *error;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int error = 0;
  for (const addrinfo* a = std::get<AddrInfo>(resolved).get(); a != nullptr; a = a->ai_next) {
    Fd fd;
    error = connect_one(*a, stopper, deadline, fd);
    if (fd || stopper.stopped()) return fd;
  }
  return "cannot connect to " + socket.address + ": " + errno_text(error);
}

std::variant<Fd, std::string> open_udp(const SocketSpec& socket) {
  auto resolved = resolve(socket, SOCK_DGRAM);
  if (auto* error = std::get_if<std::string>(&resolved)) return *error;
  int error = 0;
  for (const addrinfo* a = std::get<AddrInfo>(resolved).get(); a != nullptr; a = a->ai_next) {
    Fd fd(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (fd && ::connect(fd.get(), a->ai_addr, a->ai_addrlen) == 0) return fd;
    error = errno;
  }
  return "cannot open a UDP socket to " + socket.address + ": " + errno_text(error);
}

}  // namespace kumasim::shipper
