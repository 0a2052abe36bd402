#include "simulator/kafka_listener.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <iostream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace kumasim::sim {
namespace {

using Handle = std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)>;

// How long one poll may block: the bound on how long stop() waits.
constexpr int kPollMs = 100;

// How long stop() lets the consumer close (commit, leave the group) before
// abandoning it: a close needs the brokers, which may be gone.
constexpr auto kCloseTimeout = std::chrono::seconds(5);

// The highest Kafka ApiKey whose injected errors restore() clears.
constexpr std::int16_t kMaxApiKey = 70;

// Every setting librdkafka refuses is reported with its name and librdkafka's
// reason; a password is never echoed.
void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    const bool secret = std::string_view(name) == "sasl.password";
    throw std::runtime_error(std::string("librdkafka refuses consumer setting ") + name + "=" +
                             (secret ? "(hidden)" : value) + ": " + error);
  }
}

// KUMA's security settings (§2.3) as librdkafka's.
void set_security(rd_kafka_conf_t* conf, const ListenerConfig& config) {
  const bool sasl = config.sasl != KafkaSasl::none;
  const bool tls = config.kafka_tls != KafkaTls::off;
  set(conf, "security.protocol", sasl ? (tls ? "sasl_ssl" : "sasl_plaintext") : (tls ? "ssl" : "plaintext"));
  if (sasl) {
    set(conf, "sasl.mechanism", sasl_mechanism(config.sasl));
    set(conf, "sasl.username", config.username);
    set(conf, "sasl.password", config.password);
  }
  if (tls) {
    if (!config.tls.ca_file.empty()) set(conf, "ssl.ca.location", config.tls.ca_file);
    if (!config.tls.cert_file.empty()) set(conf, "ssl.certificate.location", config.tls.cert_file);
    if (!config.tls.key_file.empty()) set(conf, "ssl.key.location", config.tls.key_file);
    set(conf, "enable.ssl.certificate.verification", config.kafka_tls == KafkaTls::verify ? "true" : "false");
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

std::optional<int> kafka_error_code(std::string_view name) {
  constexpr std::string_view kPrefix = "RD_KAFKA_RESP_ERR_";
  if (name.substr(0, kPrefix.size()) == kPrefix) name.remove_prefix(kPrefix.size());
  if (name.empty() || name.front() == '_') return std::nullopt;  // "_TRANSPORT"...: the client's, not a broker's
  const rd_kafka_err_desc* descs = nullptr;
  std::size_t count = 0;
  rd_kafka_get_err_descs(&descs, &count);
  for (std::size_t i = 0; i < count; ++i) {
    if (descs[i].name != nullptr && descs[i].code > 0 && name == descs[i].name) return descs[i].code;
  }
  return std::nullopt;
}

std::uint64_t OffsetTracker::observe(std::int32_t partition, std::int64_t offset) {
  auto& next = next_[partition];
  if (next < 0) next = offset;  // the start was unknown: this is it
  if (offset < next) return 0;
  const auto lost = static_cast<std::uint64_t>(offset - next);
  next = offset + 1;
  return lost;
}

void OffsetTracker::resume_at(std::int32_t partition, std::int64_t offset) {
  auto& next = next_[partition];
  if (offset > next) next = offset;
}

void OffsetTracker::start_unknown(std::int32_t partition) { next_.try_emplace(partition, -1); }

void OffsetTracker::assigned(std::int32_t partition, std::optional<std::int64_t> committed, bool fresh_topic) {
  if (!committed) next_[partition] = -1;  // nobody knows where reading resumes: not a loss either way
  else if (*committed >= 0) resume_at(partition, *committed);
  else if (!fresh_topic) start_unknown(partition);
}

// The mock cluster and the producer handle librdkafka requires as its owner.
class KafkaListener::EmbeddedCluster {
 public:
  explicit EmbeddedCluster(const ListenerConfig& config) : brokers_(config.brokers) {
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

  // Undoes every fault (brokers up, no added round-trip time, no pending
  // request errors), so that the consumer's close (its last commit, leaving
  // the group) is answered at once instead of waiting out librdkafka's timeouts.
  void restore() {
    for (int id = 1; id <= brokers_; ++id) {
      rd_kafka_mock_broker_set_up(cluster_, id);
      rd_kafka_mock_broker_set_rtt(cluster_, id, 0);
    }
    for (std::int16_t api = 0; api <= kMaxApiKey; ++api) rd_kafka_mock_clear_request_errors(cluster_, api);
  }

  std::optional<std::string> inject(const KafkaFault& fault) {
    if (fault.broker && (*fault.broker < 1 || *fault.broker > brokers_)) {
      return "broker " + std::to_string(*fault.broker) + " is not 1-" + std::to_string(brokers_);
    }
    if (fault.down && !fault.broker) return std::string("down needs broker");
    const auto check = [](rd_kafka_resp_err_t error, const std::string& what) -> std::optional<std::string> {
      if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
      return what + ": " + rd_kafka_err2str(error);
    };
    if (fault.down) {
      const auto id = *fault.broker;
      const auto error = *fault.down ? rd_kafka_mock_broker_set_down(cluster_, id) : rd_kafka_mock_broker_set_up(cluster_, id);
      if (auto problem = check(error, "down")) return problem;
    }
    if (fault.rtt_ms) {
      for (int id = 1; id <= brokers_; ++id) {
        if (fault.broker && *fault.broker != id) continue;
        if (auto problem = check(rd_kafka_mock_broker_set_rtt(cluster_, id, *fault.rtt_ms), "rtt_ms")) return problem;
      }
    }
    if (fault.request_errors) {
      const auto& r = *fault.request_errors;
      const std::vector<rd_kafka_resp_err_t> errors(static_cast<std::size_t>(r.count),
                                                     static_cast<rd_kafka_resp_err_t>(r.error));
      rd_kafka_mock_push_request_errors_array(cluster_, static_cast<std::int16_t>(r.api), errors.size(), errors.data());
    }
    return std::nullopt;
  }

 private:
  Handle owner_{nullptr, &rd_kafka_destroy};  // declared first: destroyed after the cluster
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
  int brokers_;
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
    // A member joining or leaving stops the whole group until every member
    // has rejoined or the session timeout has passed (librdkafka's default
    // 45 s; the embedded broker always waits it out): KUMA-like consumers
    // of kumasim use these shorter timeouts (docs/serve.md).
    set(conf, "session.timeout.ms", "6000");
    set(conf, "heartbeat.interval.ms", "1000");
    if (config.embedded) {
      // librdkafka's mock broker holds an empty fetch for the whole wait
      // instead of answering when data arrives: a short wait keeps the
      // embedded broker as quick as a real one. (A shorter socket timeout
      // would trip an assertion of the 2.0 mock's group coordinator.)
      set(conf, "fetch.wait.max.ms", "10");
      // A broker of ours that comes back (a fault ended) is reconnected to within
      // a second, not after librdkafka's 10 s backoff.
      set(conf, "reconnect.backoff.max.ms", "1000");
    } else {
      set_security(conf, config);
    }
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_error_cb(conf, &Consumer::on_error);
    rd_kafka_conf_set_log_cb(conf, &Consumer::on_log);
    rd_kafka_conf_set_rebalance_cb(conf, &Consumer::on_rebalance);
    char error[512];
    handle_.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error));
    if (!handle_) {
      rd_kafka_conf_destroy(conf);  // only a successful rd_kafka_new takes it
      throw std::runtime_error(std::string("librdkafka refuses the consumer's settings: ") + error);
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
    Handle handle{nullptr, &rd_kafka_destroy};
    {
      const std::lock_guard lock(mutex_);  // lag() reads through the handle
      handle.swap(handle_);
    }
    // The embedded brokers are back up (KafkaListener::stop): always try there.
    if (handle) close(handle.release(), !listener_.config.embedded && unreachable());
    listener_.stats.kafka_assigned_partitions.store(0, std::memory_order_relaxed);
  }

  // `ask` set: the high watermarks come from the brokers (at most that long
  // each), not from the last fetch answered, which a broker down makes stale.
  std::optional<std::int64_t> lag(std::optional<std::chrono::milliseconds> ask = std::nullopt) const {
    if (!ask && unreachable()) return std::nullopt;  // the watermarks seen last are stale
    const std::lock_guard lock(mutex_);
    if (!handle_ || assignment_.empty()) return std::nullopt;
    const std::string& topic = listener_.config.topic;
    rd_kafka_topic_partition_list_t* positions = rd_kafka_topic_partition_list_new(static_cast<int>(assignment_.size()));
    for (const auto& [partition, start] : assignment_) rd_kafka_topic_partition_list_add(positions, topic.c_str(), partition);
    rd_kafka_position(handle_.get(), positions);
    std::optional<std::int64_t> total = 0;
    for (int i = 0; i < positions->cnt && total; ++i) {
      const auto& p = positions->elems[i];
      std::int64_t low = RD_KAFKA_OFFSET_INVALID, high = RD_KAFKA_OFFSET_INVALID;
      const auto error = ask ? rd_kafka_query_watermark_offsets(handle_.get(), topic.c_str(), p.partition, &low, &high,
                                                                static_cast<int>(ask->count()))
                             : rd_kafka_get_watermark_offsets(handle_.get(), topic.c_str(), p.partition, &low, &high);
      if (error != RD_KAFKA_RESP_ERR_NO_ERROR || high < 0) {
        total.reset();  // no fetch answered yet
        break;
      }
      // Nothing consumed from it yet: it is read from its start (the
      // committed offset, or the fresh topic's 0).
      std::int64_t position = p.offset;
      if (position < 0) position = assignment_.at(p.partition);
      if (position < 0) position = low >= 0 ? low : high == 0 ? 0 : -1;
      if (position < 0) total.reset();
      else *total += std::max<std::int64_t>(0, high - position);
    }
    rd_kafka_topic_partition_list_destroy(positions);
    return total;
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

  // The consumer leaves its group (a last commit, LeaveGroup) within
  // kCloseTimeout, or is destroyed without it: a close needs the brokers, and
  // librdkafka would wait out its socket timeout (a minute) for a broker that
  // is gone. `unreachable`: the brokers were last seen gone, do not even try.
  void close(rd_kafka_t* handle, bool unreachable) {
    bool closed = false;
    if (!unreachable) {
      rd_kafka_queue_t* queue = rd_kafka_queue_new(handle);
      if (rd_kafka_error_t* error = rd_kafka_consumer_close_queue(handle, queue)) {
        rd_kafka_error_destroy(error);
      } else {
        const auto deadline = std::chrono::steady_clock::now() + kCloseTimeout;
        while (!(closed = rd_kafka_consumer_closed(handle) != 0) && std::chrono::steady_clock::now() < deadline) {
          rd_kafka_queue_poll_callback(queue, kPollMs);  // serves the revocation
        }
      }
      rd_kafka_queue_destroy(queue);
    }
    if (!closed) {
      std::cerr << "kumasim: kafka listener " << listener_.config.name
                << ": closing without leaving the group (the brokers do not answer)\n";
    }
    rd_kafka_destroy_flags(handle, closed ? 0 : RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
  }

  // The brokers were last seen gone (no message since).
  bool unreachable() const {
    const auto error = last_error_.load();
    return error == RD_KAFKA_RESP_ERR__TRANSPORT || error == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
           error == RD_KAFKA_RESP_ERR__RESOLVE;
  }

  void record(const rd_kafka_message_t& message) {
    if (last_error_.exchange(RD_KAFKA_RESP_ERR_NO_ERROR) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // Healthy again: the error is history, and the next one is news.
      listener_.stats.set_kafka_last_error("");
      cause_.clear();
      const std::lock_guard lock(log_mutex_);
      last_log_.clear();
    }
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

  // Counted every time and kept as the stats' kafka_last_error; written to
  // stderr once per change of error, so that a broker down for a minute is
  // one line, not hundreds.
  // "All brokers down" follows the failure that brought them down (a refused
  // connection, a failed authentication): it keeps that cause in its text.
  void report(rd_kafka_resp_err_t error, const std::string& reason) {
    std::string text = std::string(rd_kafka_err2name(error)) + ": " + reason;
    if (error != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) cause_ = text;
    else if (!cause_.empty()) text += " (after " + cause_ + ")";
    const bool news = error != last_error_.exchange(error);
    if (news) std::cerr << "kumasim: kafka listener " << listener_.config.name << ": " << text << "\n";
    // The text first: whoever sees the count go up finds the error it counts.
    listener_.stats.set_kafka_last_error(std::move(text));
    ListenerStats::bump(listener_.stats.kafka_errors);
  }

  static void on_error(rd_kafka_t*, int error, const char* reason, void* opaque) {
    static_cast<Consumer*>(opaque)->report(static_cast<rd_kafka_resp_err_t>(error), reason);
  }

  // librdkafka's own log lines (on its threads): warnings and worse, each
  // kind (facility) once until messages flow again, as errors are, instead
  // of librdkafka's raw "%3|...|FAIL|..." line per retry.
  static void on_log(const rd_kafka_t* handle, int level, const char* facility, const char* line) {
    if (level > 5) return;  // info and debug
    auto* self = static_cast<Consumer*>(rd_kafka_opaque(handle));
    if (self == nullptr) return;
    {
      const std::lock_guard lock(self->log_mutex_);
      if (!self->last_log_.insert(facility).second) return;
    }
    std::cerr << "kumasim: kafka listener " << self->listener_.config.name << ": librdkafka " << facility << ": "
              << line << "\n";
  }

  // The group's assignment: taken as given, and counted. A partition resumes
  // at its committed offset, so the messages before it are not counted lost.
  static void on_rebalance(rd_kafka_t* handle, rd_kafka_resp_err_t error, rd_kafka_topic_partition_list_t* partitions,
                           void* opaque) {
    auto& self = *static_cast<Consumer*>(opaque);
    auto& assigned = self.listener_.stats.kafka_assigned_partitions;
    const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE";
    if (error == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      self.track(handle, partitions, cooperative);
      if (cooperative) {
        if (auto* problem = rd_kafka_incremental_assign(handle, partitions)) rd_kafka_error_destroy(problem);
        assigned.fetch_add(static_cast<std::uint64_t>(partitions->cnt), std::memory_order_relaxed);
      } else {
        rd_kafka_assign(handle, partitions);
        assigned.store(static_cast<std::uint64_t>(partitions->cnt), std::memory_order_relaxed);
      }
      return;
    }
    if (error != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) self.report(error, "rebalance failed");
    {
      const std::lock_guard lock(self.mutex_);
      if (!cooperative) self.assignment_.clear();
      for (int i = 0; i < partitions->cnt; ++i) self.assignment_.erase(partitions->elems[i].partition);
    }
    if (cooperative) {
      if (auto* problem = rd_kafka_incremental_unassign(handle, partitions)) rd_kafka_error_destroy(problem);
      const auto gone = std::min<std::uint64_t>(assigned.load(), static_cast<std::uint64_t>(partitions->cnt));
      assigned.fetch_sub(gone, std::memory_order_relaxed);
    } else {
      rd_kafka_assign(handle, nullptr);
      assigned.store(0, std::memory_order_relaxed);
    }
  }

  // Where consumption of newly assigned partitions starts: a committed offset
  // (someone read up to there), else the topic's start: 0 for the fresh
  // embedded topic, unknown for an external one. When the committed offsets
  // cannot be read, the start is unknown for every listener, and the failed
  // lookup is reported.
  void track(rd_kafka_t* handle, const rd_kafka_topic_partition_list_t* partitions, bool incremental) {
    rd_kafka_topic_partition_list_t* committed = rd_kafka_topic_partition_list_copy(partitions);
    auto lookup = rd_kafka_committed(handle, committed, 5000);
    for (int i = 0; i < committed->cnt && lookup == RD_KAFKA_RESP_ERR_NO_ERROR; ++i) lookup = committed->elems[i].err;
    if (lookup != RD_KAFKA_RESP_ERR_NO_ERROR) {
      report(lookup, "cannot read the group's committed offsets of the assigned partitions: loss detection starts "
                     "at the first offset read");
    }
    const bool fresh = listener_.config.embedded;
    const std::lock_guard lock(mutex_);
    if (!incremental) assignment_.clear();
    for (int i = 0; i < committed->cnt; ++i) {
      const auto& p = committed->elems[i];
      std::optional<std::int64_t> offset;
      if (lookup == RD_KAFKA_RESP_ERR_NO_ERROR && p.err == RD_KAFKA_RESP_ERR_NO_ERROR) offset = p.offset;
      offsets_.assigned(p.partition, offset, fresh);
      std::int64_t start = -1;  // unknown
      if (offset && *offset >= 0) start = *offset;
      else if (offset && fresh) start = 0;
      assignment_[p.partition] = start;
    }
    rd_kafka_topic_partition_list_destroy(committed);
  }

  ListenerContext& listener_;
  std::map<std::int32_t, FrameRecorder> recorders_;  // per partition
  OffsetTracker offsets_;
  mutable std::mutex mutex_;  // handle_ (while stop() takes it) and assignment_, which lag() reads
  Handle handle_{nullptr, &rd_kafka_destroy};
  std::map<std::int32_t, std::int64_t> assignment_;  // partition -> where reading it starts (-1: unknown)
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<rd_kafka_resp_err_t> last_error_{RD_KAFKA_RESP_ERR_NO_ERROR};  // librdkafka's threads and ours
  std::string cause_;  // the latest error but "all brokers down" (the consumer thread's)
  std::mutex log_mutex_;
  std::set<std::string> last_log_;  // librdkafka's log facilities written since messages last flowed
};

namespace {

// §2.3: KUMA refuses TLS with an IP-address URL. kumasim connects anyway (a
// test cluster often has only an address) and reports the lint.
void lint_tls_ip_url(ListenerContext& listener) {
  const auto& config = listener.config;
  if (config.embedded || config.kafka_tls == KafkaTls::off || !has_ip_address_host(config.bootstrap)) return;
  ListenerStats::bump(listener.stats.lints[static_cast<std::size_t>(formats::LintId::tls_ip_url)]);
  std::cerr << "kumasim: kafka listener " << config.name << ": warning tls-ip-url: TLS with an IP address in "
            << "bootstrap=" << config.bootstrap << "; KUMA refuses an IP address as the URL while TLS is on\n";
}

}  // namespace

KafkaListener::KafkaListener(ListenerContext& listener)
    : cluster_(listener.config.embedded ? std::make_unique<EmbeddedCluster>(listener.config) : nullptr),
      external_bootstrap_(listener.config.bootstrap),
      consumer_(std::make_unique<Consumer>(listener, bootstrap())) {
  lint_tls_ip_url(listener);
}

KafkaListener::~KafkaListener() { stop(); }

const std::string& KafkaListener::bootstrap() const { return cluster_ ? cluster_->bootstrap() : external_bootstrap_; }

void KafkaListener::start() { consumer_->start(); }

void KafkaListener::stop() {
  if (cluster_) cluster_->restore();  // the consumer's close needs the brokers
  if (consumer_) consumer_->stop();  // the consumer first: it talks to the cluster
}

std::optional<std::int64_t> KafkaListener::lag() const { return consumer_ ? consumer_->lag() : std::nullopt; }

std::optional<std::int64_t> KafkaListener::lag_from_brokers(std::chrono::milliseconds timeout) const {
  return consumer_ ? consumer_->lag(timeout) : std::nullopt;
}

nlohmann::json KafkaListener::lag_json() const {
  const auto value = lag();
  return value ? nlohmann::json(*value) : nlohmann::json();
}

std::optional<std::string> KafkaListener::inject(const KafkaFault& fault) {
  if (!cluster_) return std::string("faults apply to the embedded broker only");
  return cluster_->inject(fault);
}

}  // namespace kumasim::sim
