#include "shipper/delivery/kafka_sink.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <variant>

namespace kumasim::shipper {

namespace {

constexpr std::chrono::milliseconds kIdlePoll{100}, kBusyPoll{5};
// Below librdkafka's own queue bound (queue.buffering.max.messages, 100000),
// so that the buffer, not librdkafka, holds messages back while brokers are away.
constexpr std::size_t kMaxInFlightMessages = 32 * 1024;
// Well below queue.buffering.max.kbytes (1 GiB): with 100 KB events the
// message bound alone would let librdkafka's copies take GBs.
constexpr std::size_t kMaxInFlightBytes = 64 * 1024 * 1024;

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

void replace_setting(std::vector<KafkaSetting>& settings, const std::string& name, std::string value) {
  for (auto& setting : settings)
    if (setting.name == name) setting.value = std::move(value);
}

// librdkafka copies the key and the value of each message it is handed.
std::size_t copied_bytes(const Message& message) {
  return message.payload.size() + (message.key ? message.key->size() : 0);
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

InFlightLimit kafka_in_flight_limit(const BufferSpec& buffer) {
  if (buffer.type == BufferSpec::Type::memory)  // a maxEvents of 0 is taken as 1, as by the buffer
    return {static_cast<std::size_t>(std::clamp<std::uint64_t>(buffer.max_events, 1, kMaxInFlightMessages)),
            kMaxInFlightBytes};
  if (buffer.max_size == 0) return {kMaxInFlightMessages, kMaxInFlightBytes};
  return {kMaxInFlightMessages, static_cast<std::size_t>(std::min<std::uint64_t>(buffer.max_size, kMaxInFlightBytes))};
}

bool kafka_error_permanent(rd_kafka_resp_err_t error) {
  switch (error) {
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:  // the broker's limit, or message.max.bytes in librdkafka
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:  // librdkafka refuses the message itself
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART: return true;
    default: return false;
  }
}

KafkaSink::KafkaSink(SinkContext context, const Destination& destination, const DeliveryOptions& options)
    : context_(std::move(context)), state_(context_.log), limit_(kafka_in_flight_limit(destination.buffer)) {
  auto settings = kafka_settings(std::get<KafkaSpec>(destination.transport), destination.tls);
  if (options.kafka_message_timeout)
    replace_setting(settings, "message.timeout.ms", std::to_string(options.kafka_message_timeout->count()));
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
  while (!context_.stopper.stopped()) {
    if (failed_ != 0 && unreported_ == 0) {
      send_failed_again();
      if (!context_.stopper.wait_for(backoff_.next())) break;
    } else if (failed_ != 0 || window_full()) {
      poll(kIdlePoll);  // only delivery reports move things on, and the first one ends the wait
    } else {
      produce_batch();
    }
  }
  // What librdkafka still holds is not reported as dropped: a disk buffer
  // keeps it for the next run.
  stopping_ = true;
  rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  context_.buffer.give_back();
  outcomes_.clear();
}

bool KafkaSink::window_full() const {
  return context_.buffer.in_flight() >= limit_.messages || in_flight_bytes_ >= limit_.bytes;
}

void KafkaSink::produce_batch() {
  Buffer& buffer = context_.buffer;
  const std::size_t before = buffer.in_flight();
  const std::size_t count = buffer.take(std::min(kBatchMessages, limit_.messages - before),
                                        std::min(kBatchBytes, limit_.bytes - in_flight_bytes_),
                                        before == 0 ? kIdlePoll : kBusyPoll);
  for (std::size_t i = before; i < before + count; ++i) {
    outcomes_.push_back(Outcome::pending);
    in_flight_bytes_ += copied_bytes(buffer.in_flight(i).message);
  }
  for (std::size_t i = before; i < before + count && !context_.stopper.stopped(); ++i) {
    if (failed_ == 0) {
      produce(i);
    } else {
      // librdkafka refused one at once: the rest of the batch waits with it,
      // so that they go out again in their order.
      outcomes_[i] = Outcome::failed;
      ++failed_;
    }
  }
  poll(std::chrono::milliseconds(0));
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
  // A copy: the buffer's entries move in memory while librdkafka holds them.
  const rd_kafka_resp_err_t error = rd_kafka_producev(
      producer_.get(), RD_KAFKA_V_TOPIC(message.topic.c_str()), RD_KAFKA_V_VALUE(value, value_size),
      RD_KAFKA_V_KEY(key, key_size), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE(opaque),
      RD_KAFKA_V_END);
  if (error == RD_KAFKA_RESP_ERR_NO_ERROR)
    ++unreported_;
  else
    failed(index, error);  // no report follows
}

void KafkaSink::on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<KafkaSink*>(opaque)->delivered(*message);
}

// Called from rd_kafka_poll() on the sender thread, so it may touch the
// buffer's in-flight list like the rest of the sink.
void KafkaSink::delivered(const rd_kafka_message_t& message) {
  if (stopping_) return;
  --unreported_;
  const auto index = static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(message._private) - first_ticket_);
  if (message.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    failed(index, message.err);
    return;
  }
  outcomes_[index] = Outcome::done;
  ++context_.counters.sent;
  context_.counters.sent_bytes += message.len;
  backoff_.reset();
  if (state_.failing()) state_.recovery("delivering to Kafka again");
}

// A message librdkafka refused at once, or reported as not delivered.
void KafkaSink::failed(std::size_t index, rd_kafka_resp_err_t error) {
  const std::string& topic = context_.buffer.in_flight(index).message.topic;
  if (kafka_error_permanent(error)) {
    outcomes_[index] = Outcome::done;
    ++context_.counters.dropped_send;
    state_.failure("message to topic \"" + topic + "\" dropped: " + rd_kafka_err2str(error));
    return;
  }
  outcomes_[index] = Outcome::failed;
  // The first of a round only: the state log keeps a repeated text to one line.
  if (failed_++ == 0)
    state_.failure("messages to topic \"" + topic + "\" not delivered: " + rd_kafka_err2str(error) +
                   "; they will be sent again");
}

void KafkaSink::on_error(rd_kafka_t*, int error, const char* reason, void* opaque) {
  auto& self = *static_cast<KafkaSink*>(opaque);
  if (connection_error(error)) ++self.context_.counters.connect_failures;
  self.state_.failure(std::string("kafka: ") + reason);
}

void KafkaSink::poll(std::chrono::milliseconds wait) {
  rd_kafka_poll(producer_.get(), static_cast<int>(wait.count()));
  retire_done();
}

void KafkaSink::retire_done() {
  std::size_t count = 0;
  for (; count < outcomes_.size() && outcomes_[count] == Outcome::done; ++count)
    in_flight_bytes_ -= copied_bytes(context_.buffer.in_flight(count).message);
  if (count == 0) return;
  for (std::size_t i = 0; i < count; ++i) outcomes_.pop_front();
  first_ticket_ += count;
  context_.buffer.retire(count);
}

// Every in-flight message is reported and some failed: those go back to the
// head of the buffer, in their order, and the rest leave; nothing newer was
// produced meanwhile, so done_below() cannot pass them.
void KafkaSink::send_failed_again() {
  const std::size_t window = outcomes_.size();
  context_.counters.retried +=
      context_.buffer.give_back([this](std::size_t i) { return outcomes_[i] == Outcome::failed; });
  outcomes_.clear();
  first_ticket_ += window;
  in_flight_bytes_ = 0;
  failed_ = 0;
}

}  // namespace kumasim::shipper
