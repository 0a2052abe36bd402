#include "support/kafka_mock.h"

#include "support/eventually.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace kumasim::testing {
namespace {

// Produce's ApiKey in the Kafka protocol, for the mock's injected errors.
constexpr std::int16_t kProduceApiKey = 0;

// A failed setup step fails the test that needs the cluster, saying which
// step and why, instead of a crash or a hang further on.
[[noreturn]] void fail(const std::string& what) {
  ADD_FAILURE() << "kafka mock cluster: " << what;
  throw std::runtime_error("kafka mock cluster: " + what);
}

void check(rd_kafka_resp_err_t error, const std::string& what) {
  if (error != RD_KAFKA_RESP_ERR_NO_ERROR) fail(what + ": " + rd_kafka_err2str(error));
}

void set(rd_kafka_conf_t* conf, const char* name, const std::string& value) {
  char error[512];
  if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    fail(std::string("consumer setting ") + name + "=" + value + ": " + error);
  }
}

}  // namespace

MockCluster::MockCluster(int brokers, int partitions, const std::string& topic) : partitions_(partitions) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, nullptr);  // it has no bootstrap.servers, and says so
  owner_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error));
  if (!owner_) {
    rd_kafka_conf_destroy(conf);  // only a successful rd_kafka_new takes it
    fail(std::string("cannot create the owner handle: ") + error);
  }
  cluster_ = rd_kafka_mock_cluster_new(owner_.get(), brokers);
  if (cluster_ == nullptr) fail("cannot start " + std::to_string(brokers) + " broker(s)");
  try {
    check(rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1),
          "cannot create topic " + topic + " with " + std::to_string(partitions) + " partition(s)");
    for (int p = 0; p < partitions; ++p) {
      check(rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), p, p % brokers + 1),
            "cannot make broker " + std::to_string(p % brokers + 1) + " the leader of " + topic + " [" +
                std::to_string(p) + "]");
    }
  } catch (...) {
    rd_kafka_mock_cluster_destroy(cluster_);  // the destructor does not run
    throw;
  }
}

MockCluster::~MockCluster() { rd_kafka_mock_cluster_destroy(cluster_); }

std::vector<std::string> MockCluster::bootstrap_servers() const {
  std::vector<std::string> servers;
  std::string all = rd_kafka_mock_cluster_bootstraps(cluster_);
  for (std::size_t from = 0, comma;; from = comma + 1) {
    comma = all.find(',', from);
    servers.push_back(all.substr(from, comma - from));
    if (comma == std::string::npos) return servers;
  }
}

void MockCluster::set_down(int broker) {
  check(rd_kafka_mock_broker_set_down(cluster_, broker), "cannot take broker " + std::to_string(broker) + " down");
}
void MockCluster::set_up(int broker) {
  check(rd_kafka_mock_broker_set_up(cluster_, broker), "cannot bring broker " + std::to_string(broker) + " up");
}

void MockCluster::fail_next_produce(rd_kafka_resp_err_t error) {
  rd_kafka_mock_push_request_errors(cluster_, kProduceApiKey, 1, error);
}

std::vector<MockCluster::Record> MockCluster::consume(const std::string& topic, std::size_t count) const {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::string servers;
  for (const auto& s : bootstrap_servers()) servers += (servers.empty() ? "" : ",") + s;
  set(conf, "bootstrap.servers", servers);
  set(conf, "group.id", "test");
  set(conf, "enable.partition.eof", "true");  // to see duplicates too
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> consumer(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error), &rd_kafka_destroy);
  if (!consumer) {
    rd_kafka_conf_destroy(conf);
    fail(std::string("cannot create the consumer: ") + error);
  }
  std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)> partitions(
      rd_kafka_topic_partition_list_new(partitions_), &rd_kafka_topic_partition_list_destroy);
  for (int p = 0; p < partitions_; ++p)
    rd_kafka_topic_partition_list_add(partitions.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  check(rd_kafka_assign(consumer.get(), partitions.get()), "cannot assign the consumer " + topic + "'s partitions");
  std::vector<Record> records;
  std::set<std::int32_t> at_end;
  eventually(
      [&] {
        if (rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer.get(), 50)) {
          if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) at_end.insert(m->partition);
          if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            Record record{std::string(static_cast<const char*>(m->payload), m->len), std::nullopt, m->partition};
            if (m->key != nullptr) record.key.emplace(static_cast<const char*>(m->key), m->key_len);
            records.push_back(std::move(record));
            at_end.erase(m->partition);
          }
          rd_kafka_message_destroy(m);
        }
        return records.size() >= count && at_end.size() == static_cast<std::size_t>(partitions_);
      },
      30);
  rd_kafka_consumer_close(consumer.get());
  return records;
}

}  // namespace kumasim::testing
