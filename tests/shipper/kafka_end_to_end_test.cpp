// The documented Kafka configuration end to end, both binaries as real child
// processes: `kumasim serve` with a Kafka listener (its embedded broker) and
// `kumasim-shipper run --once` shipping the recorded AKS audit log to the
// broker's bootstrap address; the listener must hold exactly the kubelet lines.
#include "support/child_process.h"
#include "support/eventually.h"
#include "support/http_client.h"
#include "support/test_data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>

namespace kumasim::testing {
namespace {

namespace fs = std::filesystem;

// The recorded AKS audit log: 24 lines, 4 of them with a kubelet userAgent
// (the documented CLC keeps `userAgent` Regex `kubelet.*`).
constexpr std::size_t kKubeletLines = 4;

class KafkaEndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kumasim-kafka-e2e-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "root" / "var/log/kube-audit");
    std::ofstream(dir_ / "root" / "var/log/kube-audit/audit.log", std::ios::binary)
        << read_file("fixtures/audit/sysdiglabs-aks-audit-log.log");
  }
  void TearDown() override {
    serve_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  static std::string slurp(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  // Starts `kumasim serve` with one Kafka listener `kuma-kafka` on topic
  // k8s-logs; waits (at most 10 s) for its ready file and takes the broker's
  // bootstrap and the API address from it.
  void serve(const std::string& codec) {
    const auto ready = dir_ / "ready.json";
    serve_.emplace(std::vector<std::string>{KUMASIM_BINARY, "serve", "--listen",
                                            "kafka://127.0.0.1:0?name=kuma-kafka&topic=k8s-logs&codec=" + codec,
                                            "--api", "127.0.0.1:0", "--ready-file", ready.string()},
                   dir_ / "serve.out", dir_ / "serve.err");
    ASSERT_TRUE(eventually([&] { return fs::exists(ready); })) << slurp(dir_ / "serve.err");
    for (const auto& listener : nlohmann::json::parse(slurp(ready))) {
      if (listener["name"] == "kuma-kafka") bootstrap_ = listener.value("bootstrap", "");
      if (listener["name"] == "api") api_ = listener["address"];
    }
    ASSERT_FALSE(bootstrap_.empty()) << slurp(ready);
    ASSERT_FALSE(api_.empty()) << slurp(ready);
  }

  // The documented manifest, verbatim but for the broker's address; `encoding`
  // (e.g. "    encoding:\n      codec: CEF\n") is added under spec.kafka.
  fs::path manifest(const std::string& encoding = "") {
    std::string text = read_file("fixtures/manifests/kuma-kafka.yaml");
    EXPECT_NE(text.find("kafka-address:9092"), std::string::npos);
    text = std::regex_replace(text, std::regex("kafka-address:9092"), bootstrap_);
    if (!encoding.empty()) {
      const std::string topic = "    topic: k8s-logs\n";
      const auto at = text.find(topic);
      EXPECT_NE(at, std::string::npos);
      text.insert(at + topic.size(), encoding);
    }
    const auto path = dir_ / "kuma-kafka.yaml";
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // Runs the shipper once over the sandbox; its exit status.
  int ship(const fs::path& manifest_file) {
    ChildProcess shipper({KUMASIM_SHIPPER_BINARY, "run", manifest_file.string(), "--once", "--root",
                          (dir_ / "root").string(), "--summary", (dir_ / "summary.json").string()},
                         dir_ / "shipper.out", dir_ / "shipper.err");
    const auto status = shipper.wait(60);
    EXPECT_TRUE(status.has_value()) << "the shipper timed out\n" << slurp(dir_ / "shipper.err");
    return status.value_or(-1);
  }

  nlohmann::json listener_stats() {
    return nlohmann::json::parse(http_get(api_, "/api/v1/stats").second)["listeners"]["kuma-kafka"];
  }

  // Polls (at most 15 s) until the listener has `count` frames; then the
  // listener's events.
  nlohmann::json events(std::size_t count) {
    const bool arrived = eventually([&] { return listener_stats().value("frames", 0u) >= count; }, 15);
    EXPECT_TRUE(arrived) << listener_stats() << "\n" << slurp(dir_ / "serve.err");
    return nlohmann::json::parse(http_get(api_, "/api/v1/events?listener=kuma-kafka").second)["events"];
  }

  // Every event came from the broker's k8s-logs topic, keyless, in offset order.
  void expect_kafka_metadata(const nlohmann::json& received) {
    for (std::size_t i = 0; i < received.size(); ++i) {
      const auto& event = received[i];
      EXPECT_EQ(event["transport"], "kafka") << event;
      EXPECT_EQ(event["delimited"], "kafka-message") << event;
      ASSERT_TRUE(event.contains("kafka")) << event;
      EXPECT_EQ(event["kafka"]["topic"], "k8s-logs") << event;
      EXPECT_EQ(event["kafka"]["partition"], 0) << event;
      EXPECT_EQ(event["kafka"]["offset"], i) << event;
      ASSERT_TRUE(event["kafka"].contains("key")) << event;
      EXPECT_TRUE(event["kafka"]["key"].is_null()) << event;
    }
    const auto stats = listener_stats();
    EXPECT_EQ(stats["frames"], kKubeletLines) << stats;
    EXPECT_EQ(stats["decode_errors"], 0) << stats;
    EXPECT_EQ(stats["kafka_lost_messages"], 0) << stats;
    EXPECT_EQ(stats["kafka_offset_gaps"], 0) << stats;
  }

  nlohmann::json summary() const { return nlohmann::json::parse(slurp(dir_ / "summary.json")); }

  fs::path dir_;
  std::optional<ChildProcess> serve_;
  std::string bootstrap_;
  std::string api_;
};

TEST_F(KafkaEndToEnd, JsonValuesOfTheKubeletLines) {
  serve("json");
  ASSERT_EQ(ship(manifest()), 0) << slurp(dir_ / "shipper.err");
  EXPECT_EQ(summary()["destinations"][0]["sent"], kKubeletLines) << summary();
  const auto received = events(kKubeletLines);
  ASSERT_EQ(received.size(), kKubeletLines) << received;
  for (const auto& event : received) {
    EXPECT_EQ(event["ok"], true) << event;
    EXPECT_EQ(event["format"], "json") << event;
    EXPECT_EQ(event["listener"], "kuma-kafka") << event;
    // The value is the DKP event: the audit record sits in `message`.
    const auto value = nlohmann::json::parse(event["raw"].get<std::string>());
    EXPECT_NE(value.dump().find("kubelet/"), std::string::npos) << event["raw"];
    EXPECT_EQ(value.dump().find("kubectl/"), std::string::npos) << event["raw"];
  }
  expect_kafka_metadata(received);
}

TEST_F(KafkaEndToEnd, CefValuesOfTheKubeletLines) {
  serve("cef");
  ASSERT_EQ(ship(manifest("    encoding:\n      codec: CEF\n")), 0) << slurp(dir_ / "shipper.err");
  EXPECT_EQ(summary()["destinations"][0]["sent"], kKubeletLines) << summary();
  const auto received = events(kKubeletLines);
  ASSERT_EQ(received.size(), kKubeletLines) << received;
  for (const auto& event : received) {
    EXPECT_EQ(event["ok"], true) << event;
    EXPECT_EQ(event["format"], "cef") << event;
    EXPECT_EQ(event["kuma"]["Name"], "Deckhouse Event") << event;
    EXPECT_EQ(event["raw"].get<std::string>().rfind("CEF:", 0), 0u) << event["raw"];
  }
  expect_kafka_metadata(received);
}

}  // namespace
}  // namespace kumasim::testing
