#include "simulator/kafka_listener.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace kumasim::sim {
namespace {

using Handle = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;

// How long one poll may block: the bound on how long stop() waits.
constexpr int kPollMs = 100;

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    throw std::runtime_error(std::string("consumer setting ") + name + "=" + value + ": " + error);
  }
}

KafkaRecord record_of(const rd_kafka_message_t& m) {
  KafkaRecord record;
  record.topic = rd_kafka_topic_name(m.rkt);
  record.partition = m.partition;
  record.offset = m.offset;
  if (m.key != nullptr) record.key.emplace(static_cast<const char*>(m.key), m.key_len);
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  const std::int64_t timestamp = rd_kafka_message_timestamp(&m, &type);
  if (type != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE) record.timestamp_ms = timestamp;
  rd_kafka_headers_t* headers = nullptr;
  // The message is const here, but reading its headers does not change it.
  if (rd_kafka_message_headers(&m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    std::size_t size = 0;
    for (std::size_t i = 0; rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      std::optional<std::string> text;
      if (value != nullptr) text.emplace(static_cast<const char*>(value), size);
      record.headers.emplace_back(name, std::move(text));
    }
  }
  return record;
}

}  // namespace

std::uint64_t OffsetTracker::observe(std::int32_t partition, std::int64_t offset) {
  auto& next = next_[partition];
  if (offset < next) return 0;
  const auto lost = static_cast<std::uint64_t>(offset - next);
  next = offset + 1;
  return lost;
}

// The mock cluster and the producer handle librdkafka requires as its owner.
class KafkaListener::EmbeddedCluster {
 public:
  explicit EmbeddedCluster(const ListenerConfig& config) {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, nullptr);  // the owner has no bootstrap.servers, and would say so
    owner_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error));
    if (!owner_) {
      rd_kafka_conf_destroy(conf);
      throw std::runtime_error(std::string("cannot create the embedded broker's owner: ") + error);
    }
    cluster_ = rd_kafka_mock_cluster_new(owner_.get(), config.brokers);
    if (cluster_ == nullptr) throw std::runtime_error("cannot start the embedded broker (librdkafka mock cluster)");
    const auto created = rd_kafka_mock_topic_create(cluster_, config.topic.c_str(), config.partitions, 1);
    if (created != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_mock_cluster_destroy(cluster_);
      throw std::runtime_error("cannot create topic " + config.topic + ": " + rd_kafka_err2str(created));
    }
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster_);
  }
  ~EmbeddedCluster() { rd_kafka_mock_cluster_destroy(cluster_); }
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  const std::string& bootstrap() const { return bootstrap_; }

 private:
  Handle owner_{nullptr, &rd_kafka_destroy};  // declared first: destroyed after the cluster
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
};

// KUMA's consumer: the group, earliest offsets, one thread polling with a
// short timeout so that stop() is prompt.
class KafkaListener::Consumer {
 public:
  Consumer(ListenerContext& listener, const std::string& bootstrap) : listener_(listener) {
    const auto& config = listener.config;
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "group.id", config.group);
    set(conf, "auto.offset.reset", "earliest");  // §2.3: for test determinism
    set(conf, "enable.partition.eof", "false");
    set(conf, "fetch.max.bytes", "16777216");     // KUMA's "size of message to fetch"
    set(conf, "log.connection.close", "false");  // the broker closes idle connections: not news
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_error_cb(conf, &Consumer::on_error);
    char error[512];
    handle_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error));
    if (!handle_) {
      rd_kafka_conf_destroy(conf);  // only a successful rd_kafka_new takes it
      throw std::runtime_error(std::string("cannot create the consumer: ") + error);
    }
    rd_kafka_poll_set_consumer(handle_.get());  // errors come through consumer_poll
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, config.topic.c_str(), RD_KAFKA_PARTITION_UA);
    const auto subscribed = rd_kafka_subscribe(handle_.get(), topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (subscribed != RD_KAFKA_RESP_ERR_NO_ERROR) {
      throw std::runtime_error("cannot subscribe to " + config.topic + ": " + rd_kafka_err2str(subscribed));
    }
  }
  ~Consumer() { stop(); }
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  void stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
    if (handle_) rd_kafka_consumer_close(handle_.get());  // leaves the group before the broker goes
    handle_.reset();
  }

 private:
  void run() {
    while (!stopping_) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(handle_.get(), kPollMs);
      if (message == nullptr) continue;
      if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        record(*message);
      else
        report(message->err, rd_kafka_message_errstr(message));
      rd_kafka_message_destroy(message);
    }
  }

  void record(const rd_kafka_message_t& message) {
    last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;  // healthy again: the next error is news
    auto& stats = listener_.stats;
    ListenerStats::bump(stats.bytes, message.len);
    if (const auto lost = offsets_.observe(message.partition, message.offset)) {
      ListenerStats::bump(stats.kafka_offset_gaps);
      ListenerStats::bump(stats.kafka_lost_messages, lost);
      std::cerr << "kumasim: kafka listener " << listener_.config.name << ": " << lost
                << " message(s) lost before offset " << message.offset << " of partition " << message.partition
                << " (the broker dropped them before they were consumed)\n";
    }
    const std::string_view value = message.payload == nullptr
                                       ? std::string_view{}
                                       : std::string_view(static_cast<const char*>(message.payload), message.len);
    const KafkaRecord record = record_of(message);
    // One recorder per partition, as UDP keeps one per peer: its own stream
    // state and peer name.
    auto [it, added] = recorders_.try_emplace(record.partition, listener_,
                                              "kafka:" + record.topic + "/" + std::to_string(record.partition));
    it->second.record_message(value, record);
    it->second.flush();
  }

  // Counted every time; written to stderr once per change of error, so that
  // a broker down for a minute is one line, not hundreds.
  void report(rd_kafka_resp_err_t error, const std::string& reason) {
    ListenerStats::bump(listener_.stats.kafka_errors);
    if (error == last_error_) return;
    last_error_ = error;
    std::cerr << "kumasim: kafka listener " << listener_.config.name << ": " << rd_kafka_err2name(error) << ": "
              << reason << "\n";
  }

  static void on_error(rd_kafka_t*, int error, const char* reason, void* opaque) {
    static_cast<Consumer*>(opaque)->report(static_cast<rd_kafka_resp_err_t>(error), reason);
  }

  ListenerContext& listener_;
  std::map<std::int32_t, FrameRecorder> recorders_;  // per partition
  OffsetTracker offsets_;
  Handle handle_{nullptr, &rd_kafka_destroy};
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  rd_kafka_resp_err_t last_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;  // the consumer thread's only
};

KafkaListener::KafkaListener(ListenerContext& listener)
    : cluster_(std::make_unique<EmbeddedCluster>(listener.config)),
      consumer_(std::make_unique<Consumer>(listener, cluster_->bootstrap())) {}

KafkaListener::~KafkaListener() { stop(); }

const std::string& KafkaListener::bootstrap() const { return cluster_->bootstrap(); }

void KafkaListener::start() { consumer_->start(); }

void KafkaListener::stop() {
  if (consumer_) consumer_->stop();  // the consumer first: it talks to the cluster
}

}  // namespace kumasim::sim
