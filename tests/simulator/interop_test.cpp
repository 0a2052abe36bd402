// Real peers from Debian send to an in-process simulator on loopback:
// socat (TCP, UDP), openssl s_client (TLS, both modes) and rsyslog's omfwd
// (RFC 5424 with octet counting). Each peer is a child process.
#include "simulator/pki.h"
#include "simulator/server.h"

#include "support/eventually.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

extern char** environ;

namespace kumasim::sim {
namespace {

namespace fs = std::filesystem;

using kumasim::testing::eventually;

// Runs a shell command line to completion; its exit status.
int run(const std::string& command) { return std::system(command.c_str()); }

class InteropTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kumasim-interop-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  void start(const std::string& url) {
    ServerConfig config;
    config.listeners.push_back(std::get<ListenerConfig>(parse_listener_url(url, 1)));
    config.io_threads = 1;
    server_ = std::make_unique<Server>(std::move(config));
    port_ = server_->listeners_json()[0]["port"].get<int>();
  }
  std::vector<nlohmann::json> events() {
    EventRenderer render;
    std::vector<nlohmann::json> out;
    for (const auto& e : server_->store().find({})) out.push_back(render(e));
    return out;
  }
  bool received(std::size_t n) {
    return eventually([&] { return server_->store().stats().last_id >= n; });
  }
  std::string file(const std::string& name, const std::string& content = {}) {
    const auto path = (dir_ / name).string();
    if (!content.empty()) std::ofstream(path, std::ios::binary) << content;
    return path;
  }
  static void require(const char* tool) {
    if (run(std::string("command -v ") + tool + " >/dev/null 2>&1") != 0) GTEST_SKIP() << tool << " is not installed (ci/install-deps installs it)";
  }

  fs::path dir_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

TEST_F(InteropTest, SocatOverTcpAndUdp) {
  require("socat");
  start("tcp://127.0.0.1:0?name=kuma&codec=cef");
  const auto input = file("in.cef", "CEF:0|V|P|1|C|N|3|act=a\nCEF:0|V|P|1|C|N|3|act=b\n");
  ASSERT_EQ(run("socat -u FILE:" + input + " TCP:127.0.0.1:" + std::to_string(port_)), 0);
  ASSERT_TRUE(received(2));
  EXPECT_EQ(events()[1]["kuma"]["DeviceAction"], "b");

  start("udp://127.0.0.1:0?name=u&codec=json");
  const auto datagram = file("in.json", R"({"host":"n"})");
  ASSERT_EQ(run("socat -u FILE:" + datagram + " UDP-SENDTO:127.0.0.1:" + std::to_string(port_)), 0);
  ASSERT_TRUE(received(1));
  EXPECT_EQ(events()[0]["kuma"]["Extra"]["host"], "n");
}

TEST_F(InteropTest, OpensslClientInBothTlsModes) {
  require("openssl");
  pki::Bundle bundle;
  ASSERT_FALSE(pki::create(dir_.string(), {}, false, bundle));
  const std::string tls = "&cert=" + file("server.pem") + "&key=" + file("server-key.pem") + "&ca=" + file("ca.pem");
  const auto message = file("message", "<14>1 2025-01-15T10:20:30.130Z master-0 - - - - over openssl\n");
  const auto client = [&](const std::string& extra) {
    return run("openssl s_client -quiet -no_ign_eof -verify_return_error -CAfile " + file("ca.pem") +
               " -verify_hostname localhost -connect 127.0.0.1:" + std::to_string(port_) + " " + extra + " < " +
               message + " > /dev/null 2>&1");
  };
  start("tls://127.0.0.1:0?name=tls&codec=syslog" + tls);
  ASSERT_EQ(client(""), 0);
  ASSERT_TRUE(received(1));
  EXPECT_EQ(events()[0]["kuma"]["Message"], "over openssl");

  start("tls://127.0.0.1:0?name=mtls&codec=syslog&mode=verify" + tls);
  client("");  // no client certificate: refused by the server
  ASSERT_TRUE(eventually([&] { return server_->stats_json()["listeners"]["mtls"]["tls_failures"] == 1; }));
  ASSERT_EQ(client("-cert " + file("client.pem") + " -key " + file("client-key.pem")), 0);
  ASSERT_TRUE(received(1));
}

TEST_F(InteropTest, RsyslogForwardsRfc5424WithOctetCounting) {
  require("rsyslogd");
  start("tcp://127.0.0.1:0?name=rfc&codec=rfc5424&framing=rfc6587");
  const auto input = file("input.log", "first line\nsecond line\n");
  const auto conf = file("rsyslog.conf",
                         "global(workDirectory=\"" + dir_.string() + "\")\n"
                         "module(load=\"imfile\" mode=\"polling\" PollingInterval=\"1\")\n"
                         "input(type=\"imfile\" File=\"" + input + "\" Tag=\"app\" freshStartTail=\"off\")\n"
                         "action(type=\"omfwd\" Target=\"127.0.0.1\" Port=\"" + std::to_string(port_) +
                         "\" Protocol=\"tcp\" TCP_Framing=\"octet-counted\" Template=\"RSYSLOG_SyslogProtocol23Format\")\n");
  pid_t pid = 0;
  std::string pid_file = file("rsyslogd.pid");
  std::vector<std::string> args{"rsyslogd", "-n", "-f", conf, "-i", pid_file};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  ASSERT_EQ(::posix_spawnp(&pid, "rsyslogd", nullptr, nullptr, argv.data(), environ), 0);
  const bool got = received(2);
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  ASSERT_TRUE(got) << "rsyslog did not deliver";
  const auto all = events();
  EXPECT_EQ(all[0]["format"], "rfc5424");
  EXPECT_EQ(all[0]["ok"], true) << all[0];
  EXPECT_EQ(all[0]["fields"]["app_name"], "app");
  // RSYSLOG_SyslogProtocol23Format ends with LF, which octet counting carries inside MSG.
  EXPECT_EQ(all[0]["fields"]["msg"], "first line\n");
  EXPECT_EQ(all[1]["fields"]["msg"], "second line\n");
}

TEST_F(InteropTest, SyslogNgLoggenWithOctetCounting) {
  const std::string root = std::string(KUMASIM_SOURCE_DIR) + "/.deps/syslog-ng";
  if (!fs::exists(root + "/usr/bin/loggen")) GTEST_SKIP() << "loggen is not unpacked (ci/install-deps does it)";
  start("tcp://127.0.0.1:0?name=loggen&codec=rfc5424&framing=rfc6587");
  ASSERT_EQ(run("SYSLOGNG_PREFIX=" + root + "/usr LD_LIBRARY_PATH=" + root + "/usr/lib/syslog-ng " + root +
                "/usr/bin/loggen --inet --stream --syslog-proto --size 300 --number 1000 --rate 100000 127.0.0.1 " +
                std::to_string(port_) + " > /dev/null 2>&1"),
            0);
  ASSERT_TRUE(received(1000));
  const auto stats = server_->stats_json()["listeners"]["loggen"];
  EXPECT_EQ(stats["frames"], 1000);
  EXPECT_EQ(stats["decode_errors"], 0);
  const auto first = events().front();
  EXPECT_EQ(first["fields"]["app_name"], "prg00000");
  EXPECT_EQ(first["fields"]["msg"].get<std::string>().rfind("seq: 0000000000", 0), 0u);
}

}  // namespace
}  // namespace kumasim::sim
