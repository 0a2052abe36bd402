#include "simulator/stream_listener.h"

#include <boost/asio/ssl.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

namespace kumasim::sim {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::io_context::executor_type>;

constexpr std::size_t kReadSize = 64 * 1024;
// How long a refuse_connections fault waits before trying again to listen when
// the port cannot be bound again (someone else took it meanwhile).
constexpr auto kRelistenRetry = std::chrono::seconds(1);
constexpr auto kDropLinger = std::chrono::seconds(5);  // how long a dropped connection waits for the peer to close
// How long inject() waits for the I/O threads to put a fault in effect.
constexpr auto kInjectTimeout = std::chrono::seconds(30);

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

// One connection as the listener's faults see it. Its coroutine runs on
// `strand`; faults reach it by posting there, so nothing here needs a lock.
struct Session : std::enable_shared_from_this<Session> {
  explicit Session(const Strand& s) : strand(s), pause(s), linger(s) {}
  Strand strand;
  asio::steady_timer pause;       // the slow reader's wait before a read
  asio::steady_timer linger;      // a dropped connection's wait for the peer's end
  tcp::socket* socket = nullptr;  // the TCP layer while the connection is served
  bool dropped = false;           // closed by drop_connections

  // drop_connections, as a collector that closes its connections cleanly:
  // the peer reads the end of the stream (FIN) while this side goes on
  // reading until the peer closes too, so that nothing it sent before it
  // noticed is lost. A peer that does not close within kDropLinger is cut off.
  void drop() {
    dropped = true;
    pause.cancel();
    if (socket == nullptr) return;
    boost::system::error_code ignored;
    socket->shutdown(tcp::socket::shutdown_send, ignored);
    linger.expires_after(kDropLinger);
    linger.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      const auto self = weak.lock();
      if (ec || !self || self->socket == nullptr) return;  // the connection ended first
      boost::system::error_code unused;
      self->socket->close(unused);
    });
  }
};

// Points a session at the socket that carries its connection while in scope.
class Attach {
 public:
  Attach(Session& session, tcp::socket& socket) : session_(session), previous_(session.socket) { session.socket = &socket; }
  ~Attach() { session_.socket = previous_; }
  Attach(const Attach&) = delete;
  Attach& operator=(const Attach&) = delete;

 private:
  Session& session_;
  tcp::socket* previous_;
};

// The faults of one listener, shared with its sessions (any thread: a lock).
class FaultState {
 public:
  // The slow reader's say on the next read: at most `bytes`, not before `start`.
  struct Grant {
    std::size_t bytes = kReadSize;
    Clock::time_point start{};
  };

  // Reserves the next read. While a slow reader is on, the listener's reads
  // are spaced so that they take at most `rate` bytes per second in all: each
  // reserves a tenth of a second's worth (at most kReadSize) after the last one.
  Grant reserve() {
    const auto now = Clock::now();
    const std::lock_guard lock(mutex_);
    if (rate_ == 0 || now >= slow_until_) return {};
    const auto start = std::max(now, next_read_);
    if (start >= slow_until_) return {kReadSize, slow_until_};  // full speed again by then
    const std::size_t chunk = static_cast<std::size_t>(std::clamp<std::uint64_t>(rate_ / 10, 1, kReadSize));
    next_read_ = start + std::chrono::nanoseconds((chunk * std::uint64_t{1'000'000'000} + rate_ - 1) / rate_);  // rounded up: never over the rate
    return {chunk, start};
  }

  void slow(std::uint64_t rate, Clock::duration duration) {
    const auto now = Clock::now();
    const std::lock_guard lock(mutex_);
    rate_ = duration > Clock::duration::zero() ? rate : 0;
    slow_until_ = now + duration;
    next_read_ = now;
  }

  void fail_handshakes(Clock::duration duration) {
    const auto now = Clock::now();
    const std::lock_guard lock(mutex_);
    fail_handshakes_until_ = now + duration;
  }
  bool failing_handshakes() const {
    const auto now = Clock::now();
    const std::lock_guard lock(mutex_);
    return now < fail_handshakes_until_;
  }

  std::uint64_t add(const std::shared_ptr<Session>& session) {
    const std::lock_guard lock(mutex_);
    sessions_.emplace(++last_session_, session);
    return last_session_;
  }
  void remove(std::uint64_t id) {
    const std::lock_guard lock(mutex_);
    sessions_.erase(id);
  }
  std::vector<std::shared_ptr<Session>> sessions() const {
    const std::lock_guard lock(mutex_);
    std::vector<std::shared_ptr<Session>> out;
    for (const auto& [id, weak] : sessions_) {
      if (auto session = weak.lock()) out.push_back(std::move(session));
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::uint64_t rate_ = 0;  // bytes per second; 0: no slow reader
  Clock::time_point slow_until_{};
  Clock::time_point next_read_{};
  Clock::time_point fail_handshakes_until_{};
  std::map<std::uint64_t, std::weak_ptr<Session>> sessions_;
  std::uint64_t last_session_ = 0;
};

// Keeps a session in its listener's list while in scope.
class Registration {
 public:
  Registration(std::shared_ptr<FaultState> faults, const std::shared_ptr<Session>& session)
      : faults_(std::move(faults)), id_(faults_->add(session)) {}
  ~Registration() { faults_->remove(id_); }
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

 private:
  std::shared_ptr<FaultState> faults_;
  std::uint64_t id_;
};

// Counts down the strands a fault was posted to; `done` once all have run it.
struct Latch {
  explicit Latch(std::size_t n) : remaining(n) {
    if (n == 0) done.set_value();
  }
  void arrive() {
    if (remaining.fetch_sub(1) == 1) done.set_value();
  }
  std::atomic<std::size_t> remaining;
  std::promise<void> done;
};

// Reads one connection (plain or TLS) to its end (EOF, reset, error, or a
// drop_connections fault), framing as it goes; a slow reader spaces the reads.
template <class Stream>
asio::awaitable<void> read_frames(Stream& stream, ListenerContext& listener, std::string peer, Session& session,
                                  FaultState& faults) {
  FrameRecorder recorder(listener, std::move(peer));
  formats::Framer framer({listener.config.framing, listener.config.delimiter, frame_limit(listener.config)});
  std::vector<char> buffer(kReadSize);
  auto sink = [&](const formats::Frame& frame) { recorder.record(frame); };
  for (;;) {
    std::size_t size = kReadSize;
    if (!session.dropped) {
      const auto grant = faults.reserve();
      size = grant.bytes;
      if (grant.start > Clock::now()) {
        boost::system::error_code ec;
        session.pause.expires_at(grant.start);
        co_await session.pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        if (ec) continue;  // cancelled: the slow reader changed, or the connection was dropped
      }
    }
    boost::system::error_code ec;
    const std::size_t n = co_await stream.async_read_some(asio::buffer(buffer.data(), size),
                                                          asio::redirect_error(asio::use_awaitable, ec));
    ListenerStats::bump(listener.stats.bytes, n);
    framer.feed({buffer.data(), n}, sink);
    if (ec) break;  // EOF, a reset, a drop, or the listener closing: what was read is kept
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

// fail_tls_handshakes: the client's hello is read and answered with a fatal
// handshake_failure alert (TLS record 21, level 2, description 40), then the
// connection is closed.
asio::awaitable<void> fail_handshake(tcp::socket& socket) {
  static constexpr unsigned char kAlert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};
  std::vector<char> hello(16 * 1024);
  boost::system::error_code ec;
  co_await socket.async_read_some(asio::buffer(hello), asio::redirect_error(asio::use_awaitable, ec));
  if (!ec) co_await asio::async_write(socket, asio::buffer(kAlert), asio::redirect_error(asio::use_awaitable, ec));
  socket.shutdown(tcp::socket::shutdown_both, ec);
  socket.close(ec);
}

asio::awaitable<void> serve_plain(tcp::socket& socket, ListenerContext& listener, Session& session, FaultState& faults) {
  co_await read_frames(socket, listener, peer_of(socket), session, faults);
}

// A TLS connection: the handshake, then frames. A failed handshake is counted
// with its reason; plain text on the TLS port also counts as lint tls-mismatch.
asio::awaitable<void> serve_tls(tcp::socket& socket, ListenerContext& listener, asio::ssl::context& context,
                                Session& session, FaultState& faults, bool fail) {
  const std::string peer = peer_of(socket);
  const Opening opening = co_await opening_of(socket);
  if (opening == Opening::nothing || session.dropped) co_return;
  const bool tls_client = opening == Opening::tls;
  if (fail && tls_client) {
    co_await fail_handshake(socket);
    listener.stats.tls_failed("handshake failed by fault injection (fail_tls_handshakes)");
    co_return;
  }
  asio::ssl::stream<tcp::socket> stream(std::move(socket), context);
  const Attach attach(session, stream.next_layer());
  boost::system::error_code ec;
  co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
  if (ec) {
    if (session.dropped) co_return;  // closed by drop_connections: no failure of the client's
    if (!tls_client) ListenerStats::bump(listener.stats.lints[static_cast<std::size_t>(formats::LintId::tls_mismatch)]);
    listener.stats.tls_failed(tls_client ? ec.message() : "plain text on a TLS listener");
    co_return;
  }
  co_await read_frames(stream, listener, peer, session, faults);
  if (!session.dropped) co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
}

}  // namespace

struct StreamListener::Impl {
  Impl(asio::io_context& i, ListenerContext& l)
      : io(i), listener(l), strand(asio::make_strand(i)), acceptor(strand), relisten_timer(strand) {
    if (l.config.transport == formats::Transport::tls) tls.emplace(tls::make_server_context(l.config.tls));
  }

  // Counts the connection while it is open; runs on the session's strand.
  asio::awaitable<void> serve(std::shared_ptr<Session> session, tcp::socket socket, bool fail_handshake) {
    const Registration registration(faults, session);
    const Attach attach(*session, socket);
    ListenerStats::bump(listener.stats.connections);
    ListenerStats::bump(listener.stats.open_connections);
    if (tls) co_await serve_tls(socket, listener, *tls, *session, *faults, fail_handshake);
    else co_await serve_plain(socket, listener, *session, *faults);
    listener.stats.open_connections.fetch_sub(1, std::memory_order_relaxed);
  }

  // Accepts until the acceptor is closed (stop, or a refuse_connections fault,
  // after which a new loop of a new generation starts); runs on `strand`.
  asio::awaitable<void> accept_loop(std::uint64_t loop_generation) {
    asio::steady_timer pause(strand);
    for (;;) {
      const Strand session_strand = asio::make_strand(io);
      tcp::socket socket(session_strand);
      boost::system::error_code ec;
      co_await acceptor.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
      if (loop_generation != generation || ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
      if (!ec) {
        const bool fail = tls && faults->failing_handshakes();
        asio::co_spawn(session_strand, serve(std::make_shared<Session>(session_strand), std::move(socket), fail),
                       asio::detached);
        continue;
      }
      // Out of descriptors (or another accept failure): counted, and retried a little later
      // rather than in a busy loop that would starve every session.
      ListenerStats::bump(listener.stats.accept_errors);
      pause.expires_after(std::chrono::milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // Opens, binds and listens on `bound` (the port first bound); the error otherwise.
  boost::system::error_code listen() {
    boost::system::error_code ec;
    acceptor.open(bound.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.bind(bound, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      boost::system::error_code ignored;
      acceptor.close(ignored);
    }
    return ec;
  }

  // refuse_connections, on `strand`: closes the acceptor until `refuse_until`
  // (a new fault moves it; a duration of 0 listens again now).
  void refuse(Clock::duration duration) {
    if (stopped) return;
    refuse_until = Clock::now() + duration;
    if (duration <= Clock::duration::zero()) {
      relisten_timer.cancel();
      return relisten();  // listening again when inject() returns
    }
    if (acceptor.is_open()) {
      ++generation;
      boost::system::error_code ignored;
      acceptor.close(ignored);
    }
    arm_relisten();
  }

  void arm_relisten() {
    relisten_timer.expires_at(refuse_until);
    relisten_timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec != asio::error::operation_aborted) relisten();
    });
  }

  // On `strand`, when the refusal is due to end: listens again on the same
  // port, or counts the failure (accept_errors), says so, and tries again.
  void relisten() {
    if (stopped || acceptor.is_open()) return;
    if (Clock::now() < refuse_until) return arm_relisten();
    if (const auto ec = listen()) {
      ListenerStats::bump(listener.stats.accept_errors);
      std::cerr << "kumasim: listener " << listener.config.name << ": cannot listen again on " << bound << " after "
                << "refuse_connections: " << ec.message() << "; trying again in "
                << std::chrono::duration_cast<std::chrono::seconds>(kRelistenRetry).count() << " s\n";
      refuse_until = Clock::now() + kRelistenRetry;
      return arm_relisten();
    }
    asio::co_spawn(strand, accept_loop(generation), asio::detached);
  }

  asio::io_context& io;
  ListenerContext& listener;
  Strand strand;  // the acceptor's: accept loop, refuse and relisten
  tcp::acceptor acceptor;
  tcp::endpoint bound;
  std::uint64_t generation = 0;  // of the accept loop
  bool stopped = false;
  Clock::time_point refuse_until{};
  asio::steady_timer relisten_timer;
  std::shared_ptr<FaultState> faults = std::make_shared<FaultState>();
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
  impl_->bound = acceptor.local_endpoint();
}

StreamListener::~StreamListener() = default;

tcp::endpoint StreamListener::endpoint() const { return impl_->bound; }

void StreamListener::start() {
  asio::co_spawn(impl_->strand, impl_->accept_loop(impl_->generation), asio::detached);
}

// After the I/O threads have stopped: nothing else touches the acceptor.
void StreamListener::stop() {
  impl_->stopped = true;
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
  impl_->relisten_timer.cancel();
}

std::optional<std::string> StreamListener::inject(const ListenerFault& fault) {
  using Kind = ListenerFault::Kind;
  auto& impl = *impl_;
  if (fault.duration.count() < 0 || fault.duration > kMaxListenerFaultDuration) {
    return "the duration must be 0-" + std::to_string(kMaxListenerFaultDuration.count()) + " ms";
  }
  const auto duration = std::chrono::duration_cast<Clock::duration>(fault.duration);
  if (fault.kind == Kind::fail_tls_handshakes && !impl.tls) {
    return "listener " + impl.listener.config.name + " is not a TLS listener: fail_tls_handshakes applies to tls listeners";
  }
  if (fault.kind == Kind::slow_reader && fault.bytes_per_second == 0 && fault.duration.count() > 0) {
    return std::string("slow_reader needs bytes_per_second > 0");
  }
  // From one of the I/O threads the posted work could wait behind the caller: no waiting there.
  const bool wait = !impl.io.get_executor().running_in_this_thread();
  std::shared_ptr<Latch> latch;
  switch (fault.kind) {
    case Kind::drop_connections: {
      const auto sessions = impl.faults->sessions();
      latch = std::make_shared<Latch>(sessions.size());
      for (const auto& session : sessions) {
        asio::post(session->strand, [session, latch] {
          session->drop();
          latch->arrive();
        });
      }
      break;
    }
    case Kind::refuse_connections:
      latch = std::make_shared<Latch>(1);
      asio::post(impl.strand, [&impl, duration, latch] {
        impl.refuse(duration);
        latch->arrive();
      });
      break;
    case Kind::slow_reader:
      impl.faults->slow(fault.bytes_per_second, duration);
      // Sessions waiting for their turn look again: the new rate, or full speed.
      for (const auto& session : impl.faults->sessions()) {
        asio::post(session->strand, [session] { session->pause.cancel(); });
      }
      break;
    case Kind::fail_tls_handshakes:
      impl.faults->fail_handshakes(duration);
      break;
  }
  if (latch && wait && latch->done.get_future().wait_for(kInjectTimeout) != std::future_status::ready) {
    return std::string(to_string(fault.kind)) + " was not in effect after " +
           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kInjectTimeout).count()) +
           " s: the listener's I/O threads are busy";
  }
  return std::nullopt;
}

}  // namespace kumasim::sim
