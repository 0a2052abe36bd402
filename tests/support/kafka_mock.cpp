#include "support/kafka_mock.h"

#include "support/eventually.h"

#include <set>

namespace kumasim::testing {
namespace {

// Produce's ApiKey in the Kafka protocol, for the mock's injected errors.
constexpr std::int16_t kProduceApiKey = 0;

}  // namespace

MockCluster::MockCluster(int brokers, int partitions, const std::string& topic) : partitions_(partitions) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, nullptr);  // it has no bootstrap.servers, and says so
  owner_.reset(rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error));
  cluster_ = rd_kafka_mock_cluster_new(owner_.get(), brokers);
  rd_kafka_mock_topic_create(cluster_, topic.c_str(), partitions, 1);
  for (int p = 0; p < partitions; ++p) rd_kafka_mock_partition_set_leader(cluster_, topic.c_str(), p, p % brokers + 1);
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

void MockCluster::set_down(int broker) { rd_kafka_mock_broker_set_down(cluster_, broker); }
void MockCluster::set_up(int broker) { rd_kafka_mock_broker_set_up(cluster_, broker); }

void MockCluster::fail_next_produce(rd_kafka_resp_err_t error) {
  rd_kafka_mock_push_request_errors(cluster_, kProduceApiKey, 1, error);
}

std::vector<MockCluster::Record> MockCluster::consume(const std::string& topic, std::size_t count) const {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::string servers;
  for (const auto& s : bootstrap_servers()) servers += (servers.empty() ? "" : ",") + s;
  rd_kafka_conf_set(conf, "bootstrap.servers", servers.c_str(), error, sizeof error);
  rd_kafka_conf_set(conf, "group.id", "test", error, sizeof error);
  rd_kafka_conf_set(conf, "enable.partition.eof", "true", error, sizeof error);  // to see duplicates too
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> consumer(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error), &rd_kafka_destroy);
  std::unique_ptr<rd_kafka_topic_partition_list_t, decltype(&rd_kafka_topic_partition_list_destroy)> partitions(
      rd_kafka_topic_partition_list_new(partitions_), &rd_kafka_topic_partition_list_destroy);
  for (int p = 0; p < partitions_; ++p)
    rd_kafka_topic_partition_list_add(partitions.get(), topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer.get(), partitions.get());
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
