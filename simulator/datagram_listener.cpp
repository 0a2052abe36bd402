#include "simulator/datagram_listener.h"

#include <sys/socket.h>

#include <cstring>
#include <map>
#include <vector>

namespace kumasim::sim {
namespace {

using asio::ip::udp;

constexpr std::size_t kDatagramMax = 65535;  // larger than any UDP payload: every datagram is seen whole
constexpr int kDrainBatch = 64;  // datagrams read per wakeup, so a flood cannot hold the thread

struct Datagram {
  std::size_t size = 0;        // the payload's full length (MSG_TRUNC)
  std::uint32_t drops = 0;     // the socket's kernel drop counter, when reported
  bool drops_reported = false;
  std::string peer;
};

std::string peer_of(const sockaddr_storage& address) {
  const auto endpoint = [&]() -> udp::endpoint {
    udp::endpoint e;
    std::memcpy(e.data(), &address, std::min(sizeof address, static_cast<std::size_t>(e.capacity())));
    return e;
  }();
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

// One non-blocking recvmsg; false when no datagram is waiting.
bool receive(int fd, std::vector<char>& buffer, Datagram& out) {
  sockaddr_storage from{};
  iovec io{buffer.data(), buffer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(std::uint32_t))];
  msghdr msg{};
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &io;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = ::recvmsg(fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
  if (n < 0) return false;
  out.size = static_cast<std::size_t>(n);
  out.peer = peer_of(from);
  out.drops_reported = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
      std::memcpy(&out.drops, CMSG_DATA(c), sizeof out.drops);
      out.drops_reported = true;
    }
  }
  return true;
}

}  // namespace

struct DatagramListener::Impl {
  Impl(asio::io_context& io, ListenerContext& l) : listener(l), socket(io) {}

  asio::awaitable<void> receive_loop() {
    std::vector<char> buffer(kDatagramMax);
    Datagram datagram;
    std::uint32_t last_drops = 0;
    for (;;) {
      boost::system::error_code ec;
      co_await socket.async_wait(udp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !socket.is_open()) co_return;
      for (int i = 0; i < kDrainBatch && receive(socket.native_handle(), buffer, datagram); ++i) {
        if (datagram.drops_reported) {
          ListenerStats::bump(listener.stats.udp_kernel_drops, datagram.drops - last_drops);
          last_drops = datagram.drops;
        }
        record(std::string_view(buffer.data(), std::min(datagram.size, buffer.size())), datagram);
      }
    }
  }

  void record(std::string_view payload, const Datagram& datagram) {
    ListenerStats::bump(listener.stats.bytes, datagram.size);
    auto [it, added] = recorders.try_emplace(datagram.peer, listener, datagram.peer);
    it->second.record_datagram(payload);
    it->second.flush();
    if (recorders.size() > kMaxPeers) recorders.clear();  // one normalizer per peer, bounded
  }

  static constexpr std::size_t kMaxPeers = 1024;
  ListenerContext& listener;
  udp::socket socket;
  std::map<std::string, FrameRecorder> recorders;  // per peer, for its stream state
};

DatagramListener::DatagramListener(asio::io_context& io, ListenerContext& listener)
    : impl_(std::make_unique<Impl>(io, listener)) {
  const udp::endpoint endpoint(asio::ip::make_address(listener.config.host), listener.config.port);
  auto& socket = impl_->socket;
  socket.open(endpoint.protocol());
  socket.bind(endpoint);
  const int on = 1;
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
  socket.set_option(asio::socket_base::receive_buffer_size(static_cast<int>(listener.config.rcvbuf)));
  socket.non_blocking(true);
}

DatagramListener::~DatagramListener() = default;

udp::endpoint DatagramListener::endpoint() const { return impl_->socket.local_endpoint(); }

void DatagramListener::start() {
  asio::co_spawn(impl_->socket.get_executor(), impl_->receive_loop(), asio::detached);
}

void DatagramListener::stop() {
  boost::system::error_code ignored;
  impl_->socket.close(ignored);
}

}  // namespace kumasim::sim
