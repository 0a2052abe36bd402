// Socket destination, mode TCP (dkp-log-shipper.md §11.1): each message
// followed by its terminator (LF, or NUL for GELF), plain or TLS, with
// reconnection on exponential back-off.
//
// Beyond DKP, no message is lost to a connection that breaks: messages stay
// in flight until the peer's TCP acknowledges the batch that carried them,
// and go back to the head of the buffer when the connection breaks first.
// A peer that closes its side is noticed while idle and the connection is
// replaced at once, before new messages are written into it. Duplicates are
// possible (a batch received but not yet acknowledged when the connection
// broke); a batch is at most 64 KiB, written with one call.
#pragma once

#include "shipper/delivery/sink.h"
#include "shipper/delivery/stream_connection.h"
#include "shipper/delivery/tls_client.h"

#include <memory>
#include <optional>
#include <string>

namespace kumasim::shipper {

class TcpSink final : public Sink {
 public:
  // Builds the TLS client when `tls.enabled`; throws std::runtime_error on
  // bad TLS material.
  TcpSink(SinkContext context, SocketSpec socket, const TlsMaterial& tls, char terminator);
  void run() override;

 private:
  // A batch written with one call: retired together once acknowledged.
  struct Batch {
    std::size_t messages = 0;
    std::uint64_t wire_end = 0;  // the connection's wire_written() after the batch
    std::uint64_t bytes = 0;     // plaintext, terminators included
  };
  enum class Written { ok, failed, stopped };

  std::unique_ptr<StreamConnection> connect();
  // Streams until the connection ends: the reason, or nothing on stop.
  std::optional<std::string> stream(StreamConnection& connection);
  Written write_batch(StreamConnection& connection, std::size_t count, std::string& error);
  void retire(const Observation& seen);

  SinkContext context_;
  const SocketSpec socket_;
  std::optional<TlsClient> tls_;
  const char terminator_;
  Backoff backoff_;
  StateLog state_;
  std::string out_;  // the batch being written, reused
  Ring<Batch> batches_;
};

}  // namespace kumasim::shipper
