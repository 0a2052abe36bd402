#include "simulator/stream_listener.h"

#include <vector>

namespace kumasim::sim {
namespace {

using asio::ip::tcp;

constexpr std::size_t kReadSize = 64 * 1024;

// The most of one frame a connection keeps: KUMA's buffer, and at least its
// 4 MB event limit, so that an oversize event is still seen as one. Longer
// frames are recorded with their size and first bytes (a reported truncation).
std::size_t frame_limit(const ListenerConfig& config) {
  return static_cast<std::size_t>(std::max<std::uint64_t>(config.buffer_size(), formats::kKumaMaxEventSize + 1));
}

std::string peer_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  if (ec) return "?";
  return peer.address().to_string() + ":" + std::to_string(peer.port());
}

// Reads one connection to its end (EOF, reset or error), framing as it goes.
asio::awaitable<void> read_connection(tcp::socket socket, ListenerContext& listener) {
  ListenerStats::bump(listener.stats.connections);
  ListenerStats::bump(listener.stats.open_connections);
  FrameRecorder recorder(listener, peer_of(socket));
  formats::Framer framer({listener.config.framing, listener.config.delimiter, frame_limit(listener.config)});
  std::vector<char> buffer(kReadSize);
  auto sink = [&](const formats::Frame& frame) { recorder.record(frame); };
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await socket.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    framer.feed({buffer.data(), n}, sink);
    if (ec) break;  // EOF, a reset, or the listener closing: what was read is kept
    recorder.flush();
  }
  framer.finish(sink);
  recorder.flush();
  listener.stats.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace

struct StreamListener::Impl {
  Impl(asio::io_context& io, ListenerContext& l) : listener(l), acceptor(io) {}

  asio::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (ec) continue;  // a connection that died before it was accepted
      asio::co_spawn(acceptor.get_executor(), read_connection(std::move(socket), listener), asio::detached);
    }
  }

  ListenerContext& listener;
  tcp::acceptor acceptor;
};

StreamListener::StreamListener(asio::io_context& io, ListenerContext& listener)
    : impl_(std::make_unique<Impl>(io, listener)) {
  const auto& config = listener.config;
  const tcp::endpoint endpoint(asio::ip::make_address(config.host), config.port);
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen(asio::socket_base::max_listen_connections);
}

StreamListener::~StreamListener() = default;

tcp::endpoint StreamListener::endpoint() const { return impl_->acceptor.local_endpoint(); }

void StreamListener::start() {
  asio::co_spawn(impl_->acceptor.get_executor(), impl_->accept_loop(), asio::detached);
}

void StreamListener::stop() {
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

}  // namespace kumasim::sim
