// Kafka destinations (dkp-log-shipper.md §3.5, §11.3): the librdkafka
// configuration, configuration errors that name their cause, and a round
// trip through librdkafka's mock cluster.
#include "shipper/delivery/delivery.h"
#include "shipper/delivery/kafka_sink.h"

#include "support/eventually.h"
#include "tests/shipper/delivery_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <map>
#include <memory>
#include <optional>
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

// librdkafka's in-process mock cluster: one broker, one partition.
class MockCluster {
 public:
  MockCluster() {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, nullptr);  // it has no bootstrap.servers, and says so
    owner_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error));
    cluster_ = rd_kafka_mock_cluster_new(owner_.get(), 1);
    rd_kafka_mock_topic_create(cluster_, "audit", 1, 1);
  }
  ~MockCluster() { rd_kafka_mock_cluster_destroy(cluster_); }
  std::vector<std::string> bootstrap_servers() const {
    std::vector<std::string> servers;
    std::string all = rd_kafka_mock_cluster_bootstraps(cluster_);
    for (std::size_t from = 0, comma;; from = comma + 1) {
      comma = all.find(',', from);
      servers.push_back(all.substr(from, comma - from));
      if (comma == std::string::npos) return servers;
    }
  }

  struct Record {
    std::string value;
    std::optional<std::string> key;
  };
  // Reads `count` records of partition 0 of `topic` from the beginning.
  std::vector<Record> consume(const std::string& topic, std::size_t count) const {
    char error[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    std::string servers;
    for (const auto& s : bootstrap_servers()) servers += (servers.empty() ? "" : ",") + s;
    rd_kafka_conf_set(conf, "bootstrap.servers", servers.c_str(), error, sizeof error);
    rd_kafka_conf_set(conf, "group.id", "test", error, sizeof error);
    std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> consumer(
        rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error), &rd_kafka_destroy);
    std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)> partitions(
        rd_kafka_topic_partition_list_new(1), &rd_kafka_topic_partition_list_destroy);
    rd_kafka_topic_partition_list_add(partitions.get(), topic.c_str(), 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(consumer.get(), partitions.get());
    std::vector<Record> records;
    testing::eventually([&] {
      if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 50)) {
        if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          Record record{std::string(static_cast<const char*>(m->payload), m->len), std::nullopt};
          if (m->key != nullptr) record.key.emplace(static_cast<const char*>(m->key), m->key_len);
          records.push_back(std::move(record));
        }
        rd_kafka_message_destroy(m);
      }
      return records.size() >= count;
    });
    rd_kafka_consumer_close(consumer.get());
    return records;
  }

 private:
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> owner_{nullptr, &rd_kafka_destroy};
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

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

}  // namespace
}  // namespace kumasim::shipper
