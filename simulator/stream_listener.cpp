#include "simulator/stream_listener.h"

#include <boost/asio/ssl.hpp>

#include <sys/socket.h>

#include <optional>
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

// Reads one connection (plain or TLS) to its end (EOF, reset or error),
// framing as it goes.
template <class Stream>
asio::awaitable<void> read_frames(Stream& stream, ListenerContext& listener, std::string peer) {
  FrameRecorder recorder(listener, std::move(peer));
  formats::Framer framer({listener.config.framing, listener.config.delimiter, frame_limit(listener.config)});
  std::vector<char> buffer(kReadSize);
  auto sink = [&](const formats::Frame& frame) { recorder.record(frame); };
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await stream.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
    ListenerStats::bump(listener.stats.bytes, n);
    framer.feed({buffer.data(), n}, sink);
    if (ec) break;  // EOF, a reset, or the listener closing: what was read is kept
    recorder.flush();
  }
  framer.finish(sink);
  recorder.flush();
}

enum class Opening { tls, plain, nothing };

// What the client sends first: a TLS handshake record (0x16), something
// else, or nothing before closing (a port probe, which is no TLS failure).
asio::awaitable<Opening> opening_of(tcp::socket& socket) {
  boost::system::error_code ec;
  co_await socket.async_wait(tcp::socket::wait_read, asio::redirect_error(asio::use_awaitable, ec));
  unsigned char first = 0;
  const auto n = ::recv(socket.native_handle(), &first, 1, MSG_PEEK);
  if (n <= 0) co_return Opening::nothing;
  co_return first == 0x16 ? Opening::tls : Opening::plain;
}

asio::awaitable<void> serve_plain(tcp::socket socket, ListenerContext& listener) {
  co_await read_frames(socket, listener, peer_of(socket));
}

// A TLS connection: the handshake, then frames. A failed handshake is counted
// with its reason; plain text on the TLS port also counts as lint tls-mismatch.
asio::awaitable<void> serve_tls(tcp::socket socket, ListenerContext& listener, asio::ssl::context& context) {
  const std::string peer = peer_of(socket);
  const Opening opening = co_await opening_of(socket);
  if (opening == Opening::nothing) co_return;
  const bool tls_client = opening == Opening::tls;
  asio::ssl::stream<tcp::socket> stream(std::move(socket), context);
  boost::system::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (!tls_client) ListenerStats::bump(listener.stats.lints[static_cast<std::size_t>(formats::LintId::tls_mismatch)]);
    listener.stats.tls_failed(tls_client ? ec.message() : "plain text on a TLS listener");
    co_return;
  }
  co_await read_frames(stream, listener, peer);
  co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

struct StreamListener::Impl {
  Impl(asio::io_context& io, ListenerContext& l) : listener(l), acceptor(io) {
    if (l.config.transport == formats::Transport::tls) tls.emplace(tls::make_server_context(l.config.tls));
  }

  // Counts the connection while it is open.
  asio::awaitable<void> serve(tcp::socket socket) {
    ListenerStats::bump(listener.stats.connections);
    ListenerStats::bump(listener.stats.open_connections);
    if (tls) co_await serve_tls(std::move(socket), listener, *tls);
    else co_await serve_plain(std::move(socket), listener);
    listener.stats.open_connections.fetch_sub(1, std::memory_order_relaxed);
  }

  asio::awaitable<void> accept_loop() {
    asio::steady_timer pause(acceptor.get_executor());
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (!ec) {
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket)), asio::detached);
        continue;
      }
      // Out of descriptors (or another accept failure): counted, and retried a little later
      // rather than in a busy loop that would starve every session.
      ListenerStats::bump(listener.stats.accept_errors);
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  ListenerContext& listener;
  tcp::acceptor acceptor;
  std::optional<asio::ssl::context> tls;  // TLS listeners only
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
