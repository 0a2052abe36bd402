#include "shipper/delivery/delivery.h"

#include "shipper/delivery/buffer.h"
#include "shipper/delivery/disk_storage.h"
#include "shipper/delivery/kafka_sink.h"
#include "shipper/delivery/sink.h"
#include "shipper/delivery/stdout_sink.h"
#include "shipper/delivery/tcp_sink.h"
#include "shipper/delivery/udp_sink.h"

#include <csignal>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace kumasim::shipper {

namespace {

// §10.6, §11.1: GELF over TCP ends each event with NUL; everything else,
// including what stdout shows for UDP and Kafka, with LF.
char terminator(const Destination& destination) {
  const auto* socket = std::get_if<SocketSpec>(&destination.transport);
  const bool tcp = socket != nullptr && socket->mode == SocketSpec::Mode::tcp;
  return tcp && destination.codec == Codec::gelf ? '\0' : '\n';
}

// Disk without a data directory is memory bounded by maxSize, as §9 allows.
// A maxEvents of 0 would block every push forever: it is taken as 1.
std::unique_ptr<Storage> make_storage(const Destination& destination, const std::string& data_dir,
                                      std::function<void(const std::string&)> log) {
  const BufferSpec& spec = destination.buffer;
  if (spec.type == BufferSpec::Type::memory) return make_memory_storage({std::max<std::uint64_t>(spec.max_events, 1), 0});
  if (data_dir.empty()) return make_memory_storage({0, spec.max_size});
  return std::make_unique<DiskStorage>(data_dir + "/buffer/" + destination.name, spec.max_size, std::move(log));
}

std::unique_ptr<Sink> make_sink(const Destination& destination, const DeliveryOptions& options, SinkContext context) {
  if (options.to_stdout) return std::make_unique<StdoutSink>(std::move(context), options.stdout_fd, terminator(destination));
  if (const auto* socket = std::get_if<SocketSpec>(&destination.transport)) {
    if (socket->mode == SocketSpec::Mode::udp) return std::make_unique<UdpSink>(std::move(context), *socket);
    return std::make_unique<TcpSink>(std::move(context), *socket, destination.tls, terminator(destination));
  }
  return std::make_unique<KafkaSink>(std::move(context), destination, options);
}

// Every line names the destination; the sender thread and the pushing
// thread may log at once.
std::function<void(const std::string&)> destination_log(const std::string& name,
                                                         std::function<void(const std::string&)> out) {
  if (!out) return [](const std::string&) {};
  auto mutex = std::make_shared<std::mutex>();
  return [prefix = "destination \"" + name + "\": ", out = std::move(out), mutex](const std::string& text) {
    std::lock_guard lock(*mutex);
    out(prefix + text);
  };
}

// A write to a socket the peer has reset raises SIGPIPE; OpenSSL's writes
// cannot pass MSG_NOSIGNAL. The signal goes to the writing thread, so
// blocking it there keeps the process alive without touching its handlers.
void block_sigpipe() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

class DeliveryImpl final : public Delivery {
 public:
  DeliveryImpl(const Destination& destination, DeliveryOptions options)
      : log_(destination_log(destination.name, std::move(options.log))),
        buffer_(std::make_unique<Buffer>(make_storage(destination, options.data_dir, log_),
                                         destination.buffer.when_full, counters_, log_)),
        sink_(make_sink(destination, options, SinkContext{*buffer_, counters_, stopper_, log_})) {
    thread_ = std::thread([this] {
      block_sigpipe();
      sink_->run();
    });
  }
  ~DeliveryImpl() override { stop(); }

  bool push(Message message) override { return buffer_->push(std::move(message)) != Buffer::Push::stopped; }
  std::uint64_t done_below() const override { return buffer_->done_below(); }
  bool drain(std::chrono::milliseconds timeout) override {
    return buffer_->wait_idle(std::chrono::steady_clock::now() + timeout);
  }
  void stop() override {
    std::lock_guard lock(stop_mutex_);
    if (!thread_.joinable()) return;
    stopper_.stop();
    buffer_->stop();
    thread_.join();
    buffer_->close();
  }
  const DeliveryCounters& counters() const override { return counters_; }

 private:
  DeliveryCounters counters_;
  std::function<void(const std::string&)> log_;
  Stopper stopper_;
  std::unique_ptr<Buffer> buffer_;
  std::unique_ptr<Sink> sink_;
  std::mutex stop_mutex_;
  std::thread thread_;
};

}  // namespace

std::unique_ptr<Delivery> Delivery::start(const Destination& destination, DeliveryOptions options) {
  try {
    return std::make_unique<DeliveryImpl>(destination, std::move(options));
  } catch (const std::exception& e) {
    throw std::runtime_error("destination \"" + destination.name + "\": " + e.what());
  }
}

}  // namespace kumasim::shipper
