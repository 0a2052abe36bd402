#include "shipper/delivery/udp_sink.h"

#include "shipper/delivery/net.h"

#include <cerrno>

namespace kumasim::shipper {

namespace {

constexpr std::chrono::milliseconds kIdlePoll{50};

}  // namespace

UdpSink::UdpSink(SinkContext context, SocketSpec socket)
    : context_(std::move(context)), socket_(std::move(socket)), state_(context_.log), headers_(kBatchMessages),
      parts_(kBatchMessages) {}

void UdpSink::run() {
  Buffer& buffer = context_.buffer;
  while (!context_.stopper.stopped()) {
    if (!fd_ && !open()) {
      if (!context_.stopper.wait_for(backoff_.next())) break;
      continue;
    }
    const std::size_t count = buffer.take(kBatchMessages, kBatchBytes, kIdlePoll);
    if (count == 0) continue;
    const std::size_t done = send(count);
    buffer.retire(done);
    if (done < count) buffer.give_back();  // what was not sent waits for the new socket
  }
}

bool UdpSink::open() {
  auto opened = open_udp(socket_);
  if (auto* error = std::get_if<std::string>(&opened)) {
    ++context_.counters.connect_failures;
    state_.failure(*error);
    return false;
  }
  fd_ = std::move(std::get<Fd>(opened));
  ++context_.counters.connects;
  backoff_.reset();
  return true;
}

std::size_t UdpSink::send(std::size_t count) {
  const Buffer& buffer = context_.buffer;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& payload = buffer.in_flight(i).message.payload;
    parts_[i] = {const_cast<char*>(payload.data()), payload.size()};
    headers_[i] = {};
    headers_[i].msg_hdr.msg_iov = &parts_[i];
    headers_[i].msg_hdr.msg_iovlen = 1;
  }
  std::size_t done = 0;
  while (done < count) {
    const int sent = ::sendmmsg(fd_.get(), &headers_[done], static_cast<unsigned>(count - done), 0);
    if (sent > 0) {
      for (std::size_t i = done; i < done + static_cast<std::size_t>(sent); ++i)
        context_.counters.sent_bytes += parts_[i].iov_len;
      context_.counters.sent += static_cast<std::size_t>(sent);
      done += static_cast<std::size_t>(sent);
      if (state_.failing()) state_.recovery("datagrams to " + socket_.address + " are sent again");
      continue;
    }
    if (errno == EINTR) continue;
    const int error = errno;
    ++context_.counters.dropped_send;
    ++done;
    state_.failure("a datagram to " + socket_.address + " was dropped: " + errno_text(error));
    if (error == EMSGSIZE) {
      fd_.reset();
      break;
    }
  }
  return done;
}

}  // namespace kumasim::shipper
