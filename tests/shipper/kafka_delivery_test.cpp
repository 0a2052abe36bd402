// Kafka destinations (dkp-log-shipper.md §3.5, §11.3): the librdkafka
// configuration, configuration errors that name their cause, what is handed
// to librdkafka at once, and delivery through librdkafka's mock cluster: a
// round trip, back-pressure, messages sent again after a timeout, and
// messages dropped for good.
#include "shipper/delivery/delivery.h"
#include "shipper/delivery/kafka_sink.h"

#include "support/eventually.h"
#include "support/kafka_mock.h"
#include "tests/shipper/delivery_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace kumasim::shipper {
namespace {

using testing::Logs;

std::map<std::string, std::string> settings_map(const KafkaSpec& kafka, const TlsMaterial& tls) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : kafka_settings(kafka, tls)) out[name] = value;
  return out;
}

KafkaSpec kafka_spec(std::vector<std::string> servers) {
  KafkaSpec kafka;
  kafka.topic = "audit";
  kafka.bootstrap_servers = std::move(servers);
  return kafka;
}

Destination kafka_destination(const KafkaSpec& kafka) {
  Destination destination;
  destination.name = "kafka";
  destination.transport = kafka;
  return destination;
}

TEST(KafkaSettings, FixedSettingsAndPlaintextByDefault) {
  const auto settings = settings_map(kafka_spec({"a:9092", "b:9093"}), {});
  EXPECT_EQ(settings.at("bootstrap.servers"), "a:9092,b:9093");
  EXPECT_EQ(settings.at("compression.codec"), "gzip");
  EXPECT_EQ(settings.at("socket.timeout.ms"), "60000");
  EXPECT_EQ(settings.at("message.timeout.ms"), "300000");
  EXPECT_EQ(settings.at("security.protocol"), "plaintext");
  EXPECT_EQ(settings.count("acks"), 0u);  // librdkafka's default, -1 (§16.11)
  EXPECT_EQ(settings.count("sasl.mechanism"), 0u);
  EXPECT_EQ(settings.count("enable.ssl.certificate.verification"), 0u);
}

TEST(KafkaSettings, SecurityProtocolFollowsSaslAndTls) {
  auto kafka = kafka_spec({"a:9092"});
  TlsMaterial tls;
  tls.enabled = true;
  tls.ca_pem = "CA";
  EXPECT_EQ(settings_map(kafka, tls).at("security.protocol"), "ssl");
  kafka.sasl = KafkaSpec::Sasl{"SCRAM-SHA-512", "user", "pass"};
  EXPECT_EQ(settings_map(kafka, tls).at("security.protocol"), "sasl_ssl");
  EXPECT_EQ(settings_map(kafka, {}).at("security.protocol"), "sasl_plaintext");
  const auto settings = settings_map(kafka, tls);
  EXPECT_EQ(settings.at("sasl.mechanism"), "SCRAM-SHA-512");
  EXPECT_EQ(settings.at("sasl.username"), "user");
  EXPECT_EQ(settings.at("sasl.password"), "pass");
}

TEST(KafkaSettings, TlsMaterialGoesInAsPemAndVerifyFlagsAreHonoured) {
  TlsMaterial tls;
  tls.enabled = true;
  tls.ca_pem = "CA PEM";
  tls.crt_pem = "CRT PEM";
  tls.key_pem = "KEY PEM";
  tls.key_pass = "secret";
  tls.verify_certificate = false;
  tls.verify_hostname = false;
  const auto settings = settings_map(kafka_spec({"a:9092"}), tls);
  EXPECT_EQ(settings.at("ssl.ca.pem"), "CA PEM");
  EXPECT_EQ(settings.at("ssl.certificate.pem"), "CRT PEM");
  EXPECT_EQ(settings.at("ssl.key.pem"), "KEY PEM");
  EXPECT_EQ(settings.at("ssl.key.password"), "secret");
  EXPECT_EQ(settings.at("enable.ssl.certificate.verification"), "false");
  EXPECT_EQ(settings.at("ssl.endpoint.identification.algorithm"), "none");
  tls.verify_certificate = tls.verify_hostname = true;
  tls.ca_pem.clear();  // the system trust store (§16.6)
  const auto verifying = settings_map(kafka_spec({"a:9092"}), tls);
  EXPECT_EQ(verifying.at("enable.ssl.certificate.verification"), "true");
  EXPECT_EQ(verifying.at("ssl.endpoint.identification.algorithm"), "https");
  EXPECT_EQ(verifying.count("ssl.ca.pem"), 0u);
}

TEST(KafkaInFlightLimit, FollowsTheBufferSoThatBlockEngagesAsItFills) {
  BufferSpec memory;
  memory.max_events = 10;
  EXPECT_EQ(kafka_in_flight_limit(memory).messages, 10u);
  EXPECT_EQ(kafka_in_flight_limit(memory).bytes, 64u << 20);
  memory.max_events = 0;  // taken as 1, as by the buffer
  EXPECT_EQ(kafka_in_flight_limit(memory).messages, 1u);
  memory.max_events = 1'000'000;  // librdkafka's queue stays below its own bound
  EXPECT_EQ(kafka_in_flight_limit(memory).messages, 32768u);

  BufferSpec disk;
  disk.type = BufferSpec::Type::disk;
  disk.max_size = 1 << 20;
  EXPECT_EQ(kafka_in_flight_limit(disk).messages, 32768u);
  EXPECT_EQ(kafka_in_flight_limit(disk).bytes, 1u << 20);
  disk.max_size = 1ull << 32;
  EXPECT_EQ(kafka_in_flight_limit(disk).bytes, 64u << 20);
  disk.max_size = 0;  // no bound
  EXPECT_EQ(kafka_in_flight_limit(disk).bytes, 64u << 20);
}

TEST(KafkaErrors, OnlyWhatSendingAgainCannotCureIsPermanent) {
  for (auto error : {RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, RD_KAFKA_RESP_ERR_INVALID_MSG,
                     RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC,
                     RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE})
    EXPECT_TRUE(kafka_error_permanent(error)) << rd_kafka_err2str(error);
  for (auto error : {RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
                     RD_KAFKA_RESP_ERR__QUEUE_FULL, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT,
                     RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
                     RD_KAFKA_RESP_ERR__AUTHENTICATION})
    EXPECT_FALSE(kafka_error_permanent(error)) << rd_kafka_err2str(error);
}

TEST(KafkaDelivery, UnsupportedSaslMechanismIsNamedWithoutThePassword) {
  auto kafka = kafka_spec({"127.0.0.1:9092"});
  kafka.sasl = KafkaSpec::Sasl{"GSSAPI-NOPE", "user", "hunter2"};
  try {
    Delivery::start(kafka_destination(kafka), {});
    FAIL() << "started with a bad SASL mechanism";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("destination \"kafka\": librdkafka refuses the producer configuration"), std::string::npos)
        << what;
    EXPECT_NE(what.find("sasl.mechanism=GSSAPI-NOPE"), std::string::npos) << what;
    EXPECT_NE(what.find("Unsupported SASL mechanism: GSSAPI-NOPE"), std::string::npos) << what;
    EXPECT_EQ(what.find("hunter2"), std::string::npos) << what;
  }
}

TEST(KafkaDelivery, BadCaPemIsNamed) {
  TlsMaterial tls;
  tls.enabled = true;
  tls.ca_pem = "garbage";
  auto destination = kafka_destination(kafka_spec({"127.0.0.1:9092"}));
  destination.tls = tls;
  try {
    Delivery::start(destination, {});
    FAIL() << "started with a bad CA";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ssl.ca.pem"), std::string::npos) << e.what();
  }
}

TEST(KafkaDelivery, StopIsPromptWhileTheBrokersAreDown) {
  Logs logs;
  DeliveryOptions options;
  options.log = logs.sink();
  auto delivery = Delivery::start(kafka_destination(kafka_spec({"127.0.0.1:1"})), std::move(options));
  Message message = testing::message("{}", 0);
  message.topic = "audit";
  ASSERT_TRUE(delivery->push(std::move(message)));
  ASSERT_TRUE(testing::eventually([&] { return delivery->counters().connect_failures >= 1; })) << logs.joined();
  EXPECT_GE(logs.count("destination \"kafka\": kafka: "), 1u);
  const auto before = std::chrono::steady_clock::now();
  delivery->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(2));
  EXPECT_EQ(delivery->counters().sent, 0u);
  EXPECT_EQ(delivery->counters().dropped_send, 0u);  // not dropped: stopped before message.timeout.ms
}

using testing::MockCluster;

Message audit(std::string payload, std::uint64_t sequence, std::optional<std::string> key = std::nullopt) {
  Message m = testing::message(std::move(payload), sequence);
  m.topic = "audit";
  m.key = std::move(key);
  return m;
}

// The values of `partition`, in their order there; all of them when -1.
std::vector<std::string> values(const std::vector<MockCluster::Record>& records, std::int32_t partition = -1) {
  std::vector<std::string> out;
  for (const auto& record : records)
    if (partition < 0 || record.partition == partition) out.push_back(record.value);
  return out;
}

// Nothing lost, nothing out of order; a duplicate (a message stored by the
// broker whose report still timed out, then sent again) is allowed, and
// reported as the test's property "duplicates".
void expect_at_least_once(const std::vector<std::string>& received, const std::vector<std::string>& expected) {
  const auto arrival = testing::compare(received, expected);
  EXPECT_TRUE(arrival.complete_in_order);
  ::testing::Test::RecordProperty("duplicates", static_cast<int>(arrival.duplicates));
}

// A key that librdkafka's default partitioner (consistent_random: CRC32 of
// the key) sends to `partition` of `count`.
std::string key_for_partition(std::int32_t partition, std::int32_t count) {
  for (int i = 0;; ++i) {
    std::string key = "host-" + std::to_string(i);
    if (rd_kafka_msg_partitioner_consistent_random(nullptr, key.data(), key.size(), count, nullptr, nullptr) ==
        partition)
      return key;
  }
}

std::unique_ptr<Delivery> start_kafka(const MockCluster& cluster, Logs& logs, BufferSpec buffer = {},
                                      std::optional<std::chrono::milliseconds> message_timeout = std::nullopt) {
  auto destination = kafka_destination(kafka_spec(cluster.bootstrap_servers()));
  destination.buffer = buffer;
  DeliveryOptions options;
  options.log = logs.sink();
  options.kafka_message_timeout = message_timeout;
  return Delivery::start(destination, std::move(options));
}

BufferSpec memory_buffer(std::uint64_t max_events) {
  BufferSpec buffer;
  buffer.max_events = max_events;
  return buffer;
}

TEST(KafkaDelivery, MockClusterReceivesOneValueWithoutLfPerMessage) {
  MockCluster cluster;
  Logs logs;
  DeliveryOptions options;
  options.log = logs.sink();
  auto delivery = Delivery::start(kafka_destination(kafka_spec(cluster.bootstrap_servers())), std::move(options));
  const std::string json = R"({"host":"master-0","message":"audit line"})";
  Message unkeyed = testing::message(json, 10);
  unkeyed.topic = "audit";
  Message keyed = testing::message("{}", 11);
  keyed.topic = "audit";
  keyed.key = "master-0";
  ASSERT_TRUE(delivery->push(std::move(unkeyed)));
  ASSERT_TRUE(delivery->push(std::move(keyed)));
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(30))) << logs.joined();
  EXPECT_EQ(delivery->counters().sent, 2u);
  EXPECT_EQ(delivery->counters().sent_bytes, json.size() + 2);
  EXPECT_EQ(delivery->done_below(), 12u);

  const auto records = cluster.consume("audit", 2);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].value, json);
  EXPECT_FALSE(records[0].key.has_value());
  EXPECT_EQ(records[1].value, "{}");
  EXPECT_EQ(records[1].key, "master-0");
}

// librdkafka holds no more than the buffer's maxEvents, so Block engages as
// soon as the buffer itself is full; nothing is lost, and each message is
// delivered once: nothing timed out.
TEST(KafkaDelivery, BlockEngagesAsTheBufferFillsWhileTheBrokerIsDown) {
  MockCluster cluster;
  cluster.set_down(1);
  Logs logs;
  auto delivery = start_kafka(cluster, logs, memory_buffer(10));
  constexpr std::size_t kTotal = 50;
  auto pusher = std::async(std::launch::async, [&] {
    for (std::size_t i = 0; i < kTotal; ++i)
      if (!delivery->push(audit(testing::numbered(i), i))) return false;
    return true;
  });
  // 10 handed to librdkafka and 10 waiting; the 21st push waits.
  ASSERT_TRUE(testing::eventually([&] {
    return delivery->counters().queued == 20 && delivery->counters().blocked_pushes >= 1;
  })) << logs.joined();
  EXPECT_EQ(pusher.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  EXPECT_EQ(delivery->done_below(), 0u);

  cluster.set_up(1);
  ASSERT_EQ(pusher.wait_for(std::chrono::seconds(60)), std::future_status::ready) << logs.joined();
  EXPECT_TRUE(pusher.get());
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(60))) << logs.joined();
  EXPECT_EQ(delivery->counters().sent, kTotal);
  EXPECT_EQ(delivery->counters().retried, 0u);
  EXPECT_EQ(delivery->counters().dropped_send, 0u);
  EXPECT_EQ(delivery->done_below(), kTotal);
  const auto received = values(cluster.consume("audit", kTotal));
  EXPECT_EQ(received, testing::numbered_range(0, kTotal));
}

// After message.timeout.ms a message goes back to the buffer, not away, and
// done_below() does not pass it; it is delivered once the broker returns.
TEST(KafkaDelivery, TimedOutMessagesAreSentAgainNotLost) {
  MockCluster cluster;
  cluster.set_down(1);
  Logs logs;
  auto delivery = start_kafka(cluster, logs, memory_buffer(10), std::chrono::milliseconds(1000));
  for (std::size_t i = 0; i < 5; ++i) ASSERT_TRUE(delivery->push(audit(testing::numbered(i), 100 + i)));
  // Two rounds: every message timed out, went back, and timed out again.
  ASSERT_TRUE(testing::eventually([&] { return delivery->counters().retried >= 10; }, 30)) << logs.joined();
  EXPECT_EQ(delivery->counters().sent, 0u);
  EXPECT_EQ(delivery->counters().dropped_send, 0u);
  EXPECT_EQ(delivery->done_below(), 100u);
  EXPECT_EQ(logs.count("destination \"kafka\": messages to topic \"audit\" not delivered: Local: Message timed "
                       "out; they will be sent again"),
            1u)
      << logs.joined();

  cluster.set_up(1);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(60))) << logs.joined();
  EXPECT_EQ(delivery->counters().sent, 5u);
  EXPECT_EQ(delivery->counters().dropped_send, 0u);
  EXPECT_EQ(delivery->done_below(), 105u);
  EXPECT_EQ(logs.count("delivering to Kafka again"), 1u) << logs.joined();
  expect_at_least_once(values(cluster.consume("audit", 5)), testing::numbered_range(0, 5));
}

// Reports come out of order when one partition's broker is down and the
// other's is up: the delivered messages leave, only the failed ones go back,
// in their order, and done_below() stays at the oldest failed one.
TEST(KafkaDelivery, OnlyTheFailedOnesAmongDeliveredMessagesGoBack) {
  MockCluster cluster(2, 2);
  cluster.set_down(2);
  const std::string up = key_for_partition(0, 2), down = key_for_partition(1, 2);
  Logs logs;
  auto delivery = start_kafka(cluster, logs, memory_buffer(100), std::chrono::milliseconds(1000));
  // Connected first, so that no message to the broker that is up times out.
  ASSERT_TRUE(delivery->push(audit(testing::numbered(0), 0, up)));
  ASSERT_TRUE(testing::eventually([&] { return delivery->counters().sent == 1; }, 30)) << logs.joined();
  constexpr std::size_t kTotal = 41;
  std::vector<std::string> to_up{testing::numbered(0)}, to_down;
  for (std::size_t i = 1; i < kTotal; ++i) {
    (i % 2 == 0 ? to_up : to_down).push_back(testing::numbered(i));
    ASSERT_TRUE(delivery->push(audit(testing::numbered(i), i, i % 2 == 0 ? up : down)));
  }
  ASSERT_TRUE(testing::eventually(
      [&] { return delivery->counters().sent == to_up.size() && delivery->counters().retried >= to_down.size(); },
      30))
      << logs.joined();
  EXPECT_EQ(delivery->done_below(), 1u);  // message 1 went to the broker that is down
  EXPECT_EQ(delivery->counters().dropped_send, 0u);

  cluster.set_up(2);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(60))) << logs.joined();
  EXPECT_EQ(delivery->counters().sent, kTotal);  // none of the delivered ones went again
  EXPECT_EQ(delivery->done_below(), kTotal);
  const auto records = cluster.consume("audit", kTotal);
  EXPECT_EQ(values(records, 0), to_up);
  expect_at_least_once(values(records, 1), to_down);
}

// A message the producer or the broker refuses for good is dropped, counted
// and logged once, and the ones after it go on.
TEST(KafkaDelivery, MessagesTooLargeAreDroppedAndCountedNotSentAgain) {
  MockCluster cluster;
  Logs logs;
  auto delivery = start_kafka(cluster, logs);
  // Above librdkafka's message.max.bytes (1000000): refused by the producer.
  ASSERT_TRUE(delivery->push(audit(std::string(1'100'000, 'x'), 0)));
  ASSERT_TRUE(delivery->push(audit(testing::numbered(1), 1)));
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(30))) << logs.joined();
  EXPECT_EQ(delivery->counters().dropped_send, 1u);
  EXPECT_EQ(delivery->counters().sent, 1u);
  EXPECT_EQ(delivery->done_below(), 2u);

  cluster.fail_next_produce(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);  // refused by the broker
  ASSERT_TRUE(delivery->push(audit(testing::numbered(2), 2)));
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(30))) << logs.joined();
  EXPECT_EQ(delivery->counters().dropped_send, 2u);
  EXPECT_EQ(delivery->done_below(), 3u);
  ASSERT_TRUE(delivery->push(audit(testing::numbered(3), 3)));
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(30))) << logs.joined();

  EXPECT_EQ(delivery->counters().sent, 2u);
  EXPECT_EQ(delivery->counters().retried, 0u);
  EXPECT_EQ(logs.count("destination \"kafka\": message to topic \"audit\" dropped: Broker: Message size too large"),
            2u)
      << logs.joined();
  EXPECT_EQ(values(cluster.consume("audit", 2)), (std::vector<std::string>{testing::numbered(1), testing::numbered(3)}));
}

}  // namespace
}  // namespace kumasim::shipper
