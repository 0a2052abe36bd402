// `to_stdout`: the bytes a destination would put on the wire, written to a
// descriptor instead (dry runs, replays). Every message is followed by the
// terminator: LF, NUL for GELF over TCP; UDP datagrams and Kafka values get
// an LF so that one message stays one line. Messages are written a batch at
// a time, at once when no more are waiting, so drain() finds them flushed.
#pragma once

#include "shipper/delivery/sink.h"

#include <string>

namespace kumasim::shipper {

class StdoutSink final : public Sink {
 public:
  StdoutSink(SinkContext context, int fd, char terminator);
  void run() override;

 private:
  bool write_all(std::string& error);

  SinkContext context_;
  const int fd_;
  const char terminator_;
  StateLog state_;
  std::string out_;
};

}  // namespace kumasim::shipper
