// librdkafka's in-process mock cluster (rdkafka_mock.h) for tests: real
// Kafka protocol on loopback, brokers that can go down, injected errors,
// and a consumer that reads back what was produced.
#pragma once

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kumasim::testing {

// A cluster with one topic. Partition p is led by broker p % brokers + 1
// (broker ids start at 1), so that one broker down stops only its own partitions.
class MockCluster {
 public:
  explicit MockCluster(int brokers = 1, int partitions = 1, const std::string& topic = "audit");
  ~MockCluster();
  MockCluster(const MockCluster&) = delete;
  MockCluster& operator=(const MockCluster&) = delete;

  std::vector<std::string> bootstrap_servers() const;
  // A broker down refuses connections; its partitions keep it as leader.
  void set_down(int broker);
  void set_up(int broker);
  // The next Produce request is answered with `error`.
  void fail_next_produce(rd_kafka_resp_err_t error);

  struct Record {
    std::string value;
    std::optional<std::string> key;
    std::int32_t partition = 0;
  };
  // Reads every record of every partition of `topic` from the beginning, once
  // at least `count` have come (at most 30 s): in order within each partition.
  std::vector<Record> consume(const std::string& topic, std::size_t count) const;

 private:
  int partitions_;
  std::unique_ptr<rd_kafka_t, decltype(&rd_kafka_destroy)> owner_{nullptr, &rd_kafka_destroy};
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
};

}  // namespace kumasim::testing
