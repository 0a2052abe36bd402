#include "shipper/delivery/kafka_sink.h"

#include <array>
#include <cstdint>
#include <stdexcept>

namespace kumasim::shipper {

namespace {

constexpr std::chrono::milliseconds kIdlePoll{100}, kBusyPoll{5};
constexpr int kQueueFullPollMs = 100;
// Below librdkafka's own queue bound (queue.buffering.max.messages, 100000),
// so that the buffer, not librdkafka, holds messages back while brokers are away.
constexpr std::size_t kMaxInFlight = 32 * 1024;

// Values people must not find in a log.
bool secret(const std::string& name) {
  return name == "sasl.password" || name == "ssl.key.password" || name.ends_with(".pem");
}

// §11.3: SASL and TLS pick the protocol together.
std::string security_protocol(bool sasl, bool tls) {
  if (sasl) return tls ? "sasl_ssl" : "sasl_plaintext";
  return tls ? "ssl" : "plaintext";
}

std::string visible_settings(const std::vector<KafkaSetting>& settings) {
  std::string text;
  for (const auto& [name, value] : settings) {
    if (secret(name)) continue;
    if (!text.empty()) text += ", ";
    text += name + "=" + value;
  }
  return text;
}

// Failures of the cluster connection, as opposed to failures of one message.
bool connection_error(int error) {
  switch (error) {
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__SSL:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION: return true;
    default: return false;
  }
}

}  // namespace

std::vector<KafkaSetting> kafka_settings(const KafkaSpec& kafka, const TlsMaterial& tls) {
  std::string servers;
  for (const auto& server : kafka.bootstrap_servers) servers += (servers.empty() ? "" : ",") + server;
  std::vector<KafkaSetting> settings{
      {"bootstrap.servers", servers},
      {"compression.codec", "gzip"},
      {"socket.timeout.ms", "60000"},
      {"message.timeout.ms", "300000"},
      {"security.protocol", security_protocol(kafka.sasl.has_value(), tls.enabled)},
  };
  if (kafka.sasl) {
    settings.push_back({"sasl.mechanism", kafka.sasl->mechanism});
    settings.push_back({"sasl.username", kafka.sasl->username});
    settings.push_back({"sasl.password", kafka.sasl->password});
  }
  if (tls.enabled) {
    // No CA: librdkafka uses the system trust store (§16.6).
    if (!tls.ca_pem.empty()) settings.push_back({"ssl.ca.pem", tls.ca_pem});
    if (!tls.crt_pem.empty()) settings.push_back({"ssl.certificate.pem", tls.crt_pem});
    if (!tls.key_pem.empty()) settings.push_back({"ssl.key.pem", tls.key_pem});
    if (!tls.key_pass.empty()) settings.push_back({"ssl.key.password", tls.key_pass});
    settings.push_back({"enable.ssl.certificate.verification", tls.verify_certificate ? "true" : "false"});
    settings.push_back({"ssl.endpoint.identification.algorithm", tls.verify_hostname ? "https" : "none"});
  }
  return settings;
}

KafkaSink::KafkaSink(SinkContext context, const KafkaSpec& kafka, const TlsMaterial& tls)
    : context_(std::move(context)), state_(context_.log) {
  const auto settings = kafka_settings(kafka, tls);
  std::unique_ptr<rd_kafka_conf_t, decltype(&rd_kafka_conf_destroy)> conf(rd_kafka_conf_new(), &rd_kafka_conf_destroy);
  std::array<char, 512> error{};
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), error.data(), error.size()) != RD_KAFKA_CONF_OK)
      throw std::runtime_error("librdkafka rejects the setting " + name + ": " + error.data());
  }
  rd_kafka_conf_set_opaque(conf.get(), this);
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &KafkaSink::on_delivery);
  rd_kafka_conf_set_error_cb(conf.get(), &KafkaSink::on_error);
  // Errors reach the log through on_error, once per state change; librdkafka's
  // own log lines would repeat them on stderr with every retry.
  rd_kafka_conf_set_log_cb(conf.get(), nullptr);
  producer_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), error.data(), error.size()));
  if (!producer_)
    throw std::runtime_error("librdkafka refuses the producer configuration (" + visible_settings(settings) +
                             "): " + error.data());
  conf.release();  // rd_kafka_new() took it
}

void KafkaSink::run() {
  Buffer& buffer = context_.buffer;
  while (!context_.stopper.stopped()) {
    const std::size_t before = buffer.in_flight();
    if (before >= kMaxInFlight) {
      rd_kafka_poll(producer_.get(), static_cast<int>(kBusyPoll.count()));
      retire_done();
      continue;
    }
    const std::size_t count = buffer.take(kBatchMessages, kBatchBytes, before == 0 ? kIdlePoll : kBusyPoll);
    for (std::size_t i = 0; i < count; ++i) done_.push_back(0);
    for (std::size_t i = before; i < before + count && !context_.stopper.stopped(); ++i) produce(i);
    rd_kafka_poll(producer_.get(), 0);
    retire_done();
  }
  // What librdkafka still holds is not reported as dropped: a disk buffer
  // keeps it for the next run.
  stopping_ = true;
  rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  buffer.give_back();
  done_.clear();
}

void KafkaSink::produce(std::size_t index) {
  const Message& message = context_.buffer.in_flight(index).message;
  const std::uintptr_t ticket = first_ticket_ + index;
  // librdkafka's macros cast their arguments unparenthesised: plain variables only.
  void* const key = message.key ? const_cast<char*>(message.key->data()) : nullptr;
  const std::size_t key_size = message.key ? message.key->size() : 0;
  void* const value = const_cast<char*>(message.payload.data());
  const std::size_t value_size = message.payload.size();
  void* const opaque = reinterpret_cast<void*>(ticket);
  for (;;) {
    const rd_kafka_resp_err_t error = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_TOPIC(message.topic.c_str()), RD_KAFKA_V_VALUE(value, value_size),
        RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque),
        RD_KAFKA_V_END);
    if (error == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (error == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      if (context_.stopper.stopped()) return;
      rd_kafka_poll(producer_.get(), kQueueFullPollMs);
      continue;
    }
    ++context_.counters.dropped_send;
    done_[index] = 1;
    state_.failure("cannot produce to topic \"" + message.topic + "\": " + rd_kafka_err2str(error));
    return;
  }
}

void KafkaSink::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<KafkaSink*>(opaque)->delivered(*message);
}

void KafkaSink::delivered(const rd_kafka_message_t& message) {
  if (stopping_) return;
  const auto ticket = reinterpret_cast<std::uintptr_t>(message._private);
  done_[ticket - first_ticket_] = 1;
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++context_.counters.sent;
    context_.counters.sent_bytes += message.len;
    if (state_.failing()) state_.recovery("delivering to Kafka again");
    return;
  }
  ++context_.counters.dropped_send;
  state_.failure("messages to topic \"" + std::string(rd_kafka_topic_name(message.rkt)) +
                 "\" not delivered: " + rd_kafka_err2str(message.err));
}

void KafkaSink::on_error(rd_kafka_t*, int error, const char* reason, void* opaque) {
  auto& self = *static_cast<KafkaSink*>(opaque);
  if (connection_error(error)) ++self.context_.counters.connect_failures;
  self.state_.failure(std::string("kafka: ") + reason);
}

void KafkaSink::retire_done() {
  std::size_t count = 0;
  while (count < done_.size() && done_[count] != 0) ++count;
  if (count == 0) return;
  for (std::size_t i = 0; i < count; ++i) done_.pop_front();
  first_ticket_ += count;
  context_.buffer.retire(count);
}

}  // namespace kumasim::shipper
