#include "simulator/serve_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace kumasim::sim {
namespace {

class ServeConfigTest : public ::testing::Test {
 protected:
  std::variant<ServeFileConfig, std::string> load(const std::string& yaml) {
    path_ = std::filesystem::temp_directory_path() /
            ("kumasim-serve-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".yaml");
    std::ofstream(path_) << yaml;
    return load_serve_config(path_.string());
  }
  std::string error(const std::string& yaml) {
    auto result = load(yaml);
    if (std::holds_alternative<ServeFileConfig>(result)) {
      ADD_FAILURE() << "accepted:\n" << yaml;
      return {};
    }
    return std::get<std::string>(result);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  std::filesystem::path path_;
};

TEST_F(ServeConfigTest, SettingsAndBothListenerForms) {
  auto result = load(R"(
api: 127.0.0.1:0
max_store: 1048576
io_threads: 2
capture: /tmp/x.jsonl
listeners:
  - tcp://127.0.0.1:0?codec=cef&name=kuma
  - url: udp://127.0.0.1:0
  - name: secure
    transport: tls
    address: 127.0.0.1:0
    codec: syslog
    framing: rfc6587
    tls: {mode: verify, cert: s.pem, key: k.pem, ca: ca.pem}
)");
  ASSERT_TRUE(std::holds_alternative<ServeFileConfig>(result)) << std::get<std::string>(result);
  const auto& c = std::get<ServeFileConfig>(result);
  EXPECT_EQ(*c.api, "127.0.0.1:0");
  EXPECT_EQ(*c.max_store, 1048576u);
  EXPECT_EQ(*c.io_threads, 2u);
  ASSERT_EQ(c.listeners.size(), 3u);
  EXPECT_EQ(c.listeners[0].name, "kuma");
  EXPECT_EQ(c.listeners[1].name, "udp-2");
  EXPECT_EQ(c.listeners[2].transport, formats::Transport::tls);
  EXPECT_EQ(c.listeners[2].framing, formats::FramingMode::octet);
  EXPECT_EQ(c.listeners[2].tls.ca_file, "ca.pem");
}

TEST_F(ServeConfigTest, ErrorsNameTheFileThePlaceAndTheRule) {
  const auto bad_codec = error("listeners:\n  - name: x\n    address: 127.0.0.1:0\n    codec: xml\n");
  EXPECT_NE(bad_codec.find(":2:5: listeners[0]"), std::string::npos) << bad_codec;
  EXPECT_NE(bad_codec.find("codec \"xml\""), std::string::npos) << bad_codec;
  EXPECT_NE(error("listeners:\n  - name: x\n").find("address is required"), std::string::npos);
  EXPECT_NE(error("listeners:\n  - address: 127.0.0.1:0\n    colour: red\n").find("listeners[0].colour: unknown key"),
            std::string::npos);
  EXPECT_NE(error("apii: 127.0.0.1:0\n").find("apii: unknown setting"), std::string::npos);
  EXPECT_NE(error("max_store: lots\n").find("\"lots\" is not a valid value"), std::string::npos);
  EXPECT_NE(error("listeners: [tcp://x\n").find(path_.string() + ":"), std::string::npos);  // a YAML syntax error
  EXPECT_NE(error("- a\n- b\n").find("expected a map of settings"), std::string::npos);
}

TEST_F(ServeConfigTest, KafkaListenerMap) {
  auto result = load(R"(
listeners:
  - name: kuma-kafka
    transport: kafka
    address: 127.0.0.1:0
    topic: k8s-logs
    group: kumasim
    partitions: 2
    codec: json
)");
  ASSERT_TRUE(std::holds_alternative<ServeFileConfig>(result)) << std::get<std::string>(result);
  const auto& kafka = std::get<ServeFileConfig>(result).listeners.at(0);
  EXPECT_EQ(kafka.transport, formats::Transport::kafka);
  EXPECT_EQ(kafka.topic, "k8s-logs");
  EXPECT_EQ(kafka.partitions, 2);
  const auto bad = error("listeners:\n  - transport: kafka\n    address: 127.0.0.1:0\n    group: a/b\n");
  EXPECT_NE(bad.find("group \"a/b\" is not 1-255 characters of [A-Za-z0-9._-]"), std::string::npos) << bad;
}

TEST(ServeConfig, UnreadableFile) {
  auto result = load_serve_config("/nonexistent/serve.yaml");
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_EQ(std::get<std::string>(result), "/nonexistent/serve.yaml: cannot read the file");
}

}  // namespace
}  // namespace kumasim::sim
