#include "shipper/delivery/stdout_sink.h"

#include "shipper/delivery/net.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>

namespace kumasim::shipper {

namespace {

constexpr std::chrono::milliseconds kIdlePoll{50};

}  // namespace

StdoutSink::StdoutSink(SinkContext context, int fd, char terminator)
    : context_(std::move(context)), fd_(fd), terminator_(terminator), state_(context_.log) {
  out_.reserve(kBatchBytes);
}

void StdoutSink::run() {
  Buffer& buffer = context_.buffer;
  while (!context_.stopper.stopped()) {
    const std::size_t count = buffer.take(kBatchMessages, kBatchBytes, kIdlePoll);
    if (count == 0) continue;
    out_.clear();
    for (std::size_t i = 0; i < count; ++i) {
      out_ += buffer.in_flight(i).message.payload;
      out_ += terminator_;
    }
    std::string error;
    if (write_all(error)) {
      context_.counters.sent += count;
      context_.counters.sent_bytes += out_.size();
      if (state_.failing()) state_.recovery("writing to descriptor " + std::to_string(fd_) + " again");
    } else {
      context_.counters.dropped_send += count;
      state_.failure("cannot write to descriptor " + std::to_string(fd_) + ": " + error);
    }
    buffer.retire(count);
  }
}

bool StdoutSink::write_all(std::string& error) {
  std::size_t done = 0;
  while (done < out_.size()) {
    const ssize_t n = ::write(fd_, out_.data() + done, out_.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A non-blocking descriptor (a pipe someone else set so): wait for its reader.
      short revents = 0;
      if (wait_fd(fd_, POLLOUT, context_.stopper, std::chrono::steady_clock::time_point::max(), revents) ==
          Wait::stopped) {
        error = "stopped while its reader was not reading";
        return false;
      }
    } else if (n < 0 && errno != EINTR) {
      error = errno_text(errno);
      return false;
    }
  }
  return true;
}

}  // namespace kumasim::shipper
