// `kumasim serve` as a real child process: readiness through --ready-file,
// events over TCP, the API over HTTP, shutdown on SIGTERM, the capture file.
#include "support/http_client.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

extern char** environ;

namespace kumasim {
namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using asio::ip::tcp;
using testing::endpoint;
using testing::http_request;

class ServeProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kumasim-serve-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }

  // Starts the binary and waits (at most 10 s) for its ready file.
  nlohmann::json start(std::vector<std::string> args) {
    args.insert(args.begin(), {KUMASIM_BINARY, "serve", "--api", "127.0.0.1:0", "--ready-file", ready().string()});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(::posix_spawn(&pid_, KUMASIM_BINARY, nullptr, nullptr, argv.data(), environ), 0);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!fs::exists(ready()) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::ifstream in(ready());
    return nlohmann::json::parse(in);
  }

  // Signals the server and waits at most 10 s for it to exit; its exit status, or -1.
  int stop(int signal = SIGTERM) {
    ::kill(pid_, signal);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) return -1;  // TearDown kills it
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  fs::path ready() const { return dir_ / "ready.json"; }

  fs::path dir_;
  pid_t pid_ = -1;
};

std::string address_of(const nlohmann::json& listeners, const std::string& name) {
  for (const auto& l : listeners) {
    if (l["name"] == name) return l["address"];
  }
  return {};
}

TEST_F(ServeProcess, ReceivesReportsAndStopsCleanly) {
  const auto capture = dir_ / "capture.jsonl";
  const auto listeners = start({"--listen", "tcp://127.0.0.1:0?name=kuma&codec=cef", "--capture", capture.string()});
  const std::string api = address_of(listeners, "api");
  ASSERT_FALSE(api.empty()) << listeners;
  EXPECT_EQ(http_request(api, http::verb::get, "/healthz").first, 200u);
  EXPECT_EQ(nlohmann::json::parse(http_request(api, http::verb::get, "/api/v1/listeners").second), listeners);

  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(endpoint(address_of(listeners, "kuma")));
  asio::write(socket, asio::buffer(std::string("CEF:1|Deckhouse|log-shipper-agent|1|Log event|Deckhouse Event|5|host=n\n")));
  socket.close();

  nlohmann::json events;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    events = nlohmann::json::parse(http_request(api, http::verb::get, "/api/v1/events").second)["events"];
  } while (events.empty() && std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["kuma"]["DeviceVendor"], "Deckhouse");
  EXPECT_NE(http_request(api, http::verb::get, "/metrics").second.find("kumasim_frames_total{listener=\"kuma\"} 1"),
            std::string::npos);

  EXPECT_EQ(stop(), 0);
  std::ifstream in(capture);
  std::string line;
  ASSERT_TRUE(std::getline(in, line));
  EXPECT_EQ(nlohmann::json::parse(line)["listener"], "kuma");
}

TEST_F(ServeProcess, StopsPromptlyWhileClientsAreStillSending) {
  const auto listeners = start({"--listen", "udp://127.0.0.1:0?name=u", "--listen", "tcp://127.0.0.1:0?name=t",
                                "--io-threads", "1"});
  std::atomic<bool> sending{true};
  std::thread flood([&] {
    asio::io_context io;
    asio::ip::udp::socket udp(io, asio::ip::udp::endpoint(asio::ip::udp::v4(), 0));
    const auto to = endpoint(address_of(listeners, "u"));
    tcp::socket tcp(io);
    tcp.connect(endpoint(address_of(listeners, "t")));
    const std::string line(200, 'f');
    boost::system::error_code ignored;
    while (sending) {
      udp.send_to(asio::buffer(line), asio::ip::udp::endpoint(to.address(), to.port()), 0, ignored);
      asio::write(tcp, asio::buffer(line + "\n"), ignored);
    }
  });
  const std::string api = address_of(listeners, "api");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (http_request(api, http::verb::get, "/api/v1/stats").second.find("\"frames\":0") != std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
  }
  const int status = stop();
  sending = false;
  flood.join();
  EXPECT_EQ(status, 0);
}

TEST_F(ServeProcess, SigintStopsItToo) {
  start({"--listen", "udp://127.0.0.1:0"});
  EXPECT_EQ(stop(SIGINT), 0);
}

}  // namespace
}  // namespace kumasim
