#include "shipper/delivery/tcp_sink.h"

#include "shipper/delivery/net.h"

#include <poll.h>

namespace kumasim::shipper {

namespace {

constexpr std::chrono::milliseconds kConnectTimeout{10000}, kHandshakeTimeout{10000};
// How often an idle connection is checked for acknowledgements and for the
// peer closing it.
constexpr std::chrono::milliseconds kIdlePoll{20};
// Bounds the memory of unacknowledged messages when they are tiny; the
// kernel's send buffer bounds it in bytes.
constexpr std::size_t kMaxInFlight = 64 * 1024;
// A batch buffer grown by one huge message is not kept at that size.
constexpr std::size_t kMaxKeptBuffer = 4 * kBatchBytes;

}  // namespace

TcpSink::TcpSink(SinkContext context, SocketSpec socket, const TlsMaterial& tls, char terminator)
    : context_(std::move(context)), socket_(std::move(socket)), terminator_(terminator), state_(context_.log) {
  if (tls.enabled) tls_.emplace(tls);
  out_.reserve(kBatchBytes);
}

void TcpSink::run() {
  const Stopper& stopper = context_.stopper;
  while (!stopper.stopped()) {
    auto connection = connect();
    if (!connection) {
      if (!stopper.wait_for(backoff_.next())) break;
      continue;
    }
    backoff_.reset();
    const auto ended = stream(*connection);
    connection.reset();
    const std::size_t unconfirmed = context_.buffer.give_back();
    batches_.clear();
    if (!ended) break;
    context_.counters.retried += unconfirmed;
    state_.failure("connection to " + socket_.address + " lost: " + *ended +
                   (unconfirmed != 0 ? "; " + std::to_string(unconfirmed) + " unacknowledged messages will be sent again"
                                     : std::string()));
    if (!stopper.wait_for(backoff_.next())) break;
  }
}

std::unique_ptr<StreamConnection> TcpSink::connect() {
  auto connected = connect_tcp(socket_, context_.stopper, kConnectTimeout);
  if (auto* error = std::get_if<std::string>(&connected)) {
    ++context_.counters.connect_failures;
    state_.failure(*error);
    return nullptr;
  }
  Fd fd = std::move(std::get<Fd>(connected));
  if (!fd) return nullptr;  // stopped
  if (!tls_) {
    ++context_.counters.connects;
    state_.recovery("connected to " + socket_.address);
    return plain_connection(std::move(fd));
  }
  auto session = tls_->handshake(fd.get(), socket_.host, context_.stopper, kHandshakeTimeout);
  if (auto* error = std::get_if<std::string>(&session)) {
    ++context_.counters.connect_failures;
    state_.failure("tls handshake with " + socket_.address + " failed: " + *error);
    return nullptr;
  }
  SslSession ssl = std::move(std::get<SslSession>(session));
  if (!ssl) return nullptr;  // stopped
  ++context_.counters.connects;
  state_.recovery("connected to " + socket_.address + " (" + SSL_get_version(ssl.get()) + ")");
  return tls_connection(std::move(fd), std::move(ssl));
}

std::optional<std::string> TcpSink::stream(StreamConnection& connection) {
  Buffer& buffer = context_.buffer;
  for (;;) {
    if (context_.stopper.stopped()) {
      retire(connection.observe());
      return std::nullopt;
    }
    if (buffer.in_flight() < kMaxInFlight) {
      if (const std::size_t count = buffer.take(kBatchMessages, kBatchBytes, kIdlePoll)) {
        std::string error;
        switch (write_batch(connection, count, error)) {
          case Written::ok: break;
          case Written::failed: return error;  // measurements after a write error are not trusted
          case Written::stopped: continue;
        }
      }
    } else {
      short revents = 0;  // full window: wait for the peer, not for new messages
      wait_fd(connection.fd(), POLLIN | POLLRDHUP, context_.stopper, std::chrono::steady_clock::now() + kIdlePoll,
              revents);
    }
    Observation seen = connection.observe();
    retire(seen);
    if (seen.broken || seen.peer_closed) return std::move(seen.reason);
  }
}

TcpSink::Written TcpSink::write_batch(StreamConnection& connection, std::size_t count, std::string& error) {
  const Buffer& buffer = context_.buffer;
  out_.clear();
  for (std::size_t i = buffer.in_flight() - count; i < buffer.in_flight(); ++i) {
    out_ += buffer.in_flight(i).message.payload;
    out_ += terminator_;
  }
  std::string_view rest(out_);
  while (!rest.empty()) {
    auto io = connection.write(rest);
    if (io.written != 0) {
      rest.remove_prefix(io.written);
      continue;
    }
    if (io.wait_for == 0) {
      error = std::move(io.error);
      return Written::failed;
    }
    short revents = 0;
    if (wait_fd(connection.fd(), io.wait_for, context_.stopper, std::chrono::steady_clock::time_point::max(), revents) ==
        Wait::stopped)
      return Written::stopped;
  }
  batches_.push_back({count, connection.wire_written(), out_.size()});
  if (out_.capacity() > kMaxKeptBuffer) {
    out_ = std::string();
    out_.reserve(kBatchBytes);
  }
  return Written::ok;
}

void TcpSink::retire(const Observation& seen) {
  if (seen.broken) return;
  std::size_t messages = 0;
  std::uint64_t bytes = 0;
  while (!batches_.empty() && batches_.front().wire_end <= seen.acked) {
    const Batch batch = batches_.pop_front();
    messages += batch.messages;
    bytes += batch.bytes;
  }
  if (messages == 0) return;
  // Counted first: whoever sees them done (drain()) sees them counted.
  context_.counters.sent += messages;
  context_.counters.sent_bytes += bytes;
  context_.buffer.retire(messages);
}

}  // namespace kumasim::shipper
