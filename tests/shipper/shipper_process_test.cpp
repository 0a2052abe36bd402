// kumasim-shipper as a real child process: golden wire bytes with --stdout,
// the five documented configurations, delivery over TCP, checkpoints across a
// restart, rotation, a receiver that restarts or refuses, bad input.
#include "formats/base64.h"
#include "simulator/pki.h"
#include "support/child_process.h"
#include "support/dkp_example.h"
#include "support/eventually.h"
#include "support/kafka_mock.h"
#include "support/receivers.h"
#include "support/test_data.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <regex>

namespace kumasim::testing {
namespace {

namespace fs = std::filesystem;

const std::string kAuditPath = "var/log/kube-audit/audit.log";
const std::string kControllerLine =
    R"({"kind":"Event","verb":"list","userAgent":"kube-controller-manager/v1.29.4 (linux/amd64) kubernetes/55019c8"})";

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const fs::path& path, const std::string& text, std::ios::openmode mode = std::ios::trunc) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | mode) << text;
}

// A TCP receiver (TLS with `tls`); `close_after` lines, it closes each connection.
TcpReceiver::Options receiver_options(bool listening = true, std::size_t close_after = 0, SSL_CTX* tls = nullptr) {
  TcpReceiver::Options options;
  options.listening = listening;
  options.close_after = close_after;
  options.tls = tls;
  return options;
}

long line_count(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

std::string numbered_lines(int from, int to) {
  std::string text;
  for (int i = from; i < to; ++i) text += R"({"kind":"Event","auditID":"line-)" + std::to_string(i) + "\"}\n";
  return text;
}

// A manifest for one Socket destination reading the sandboxed audit log.
std::string socket_manifest(const std::string& mode, const std::string& codec, std::uint16_t port,
                            const std::string& extra = "") {
  return "apiVersion: deckhouse.io/v1alpha1\nkind: ClusterLogDestination\nmetadata:\n  name: kuma\nspec:\n"
         "  type: Socket\n  socket:\n    address: 127.0.0.1:" + std::to_string(port) + "\n    mode: " + mode +
         "\n    encoding:\n      codec: " + codec + "\n" + extra +
         "---\napiVersion: deckhouse.io/v1alpha2\nkind: ClusterLoggingConfig\nmetadata:\n  name: audit\nspec:\n"
         "  type: File\n  file:\n    include: [/var/log/kube-audit/audit.log]\n  destinationRefs: [kuma]\n";
}

class Shipper : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kumasim-shipper-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "root");
  }
  void TearDown() override {
    process_.reset();
    if (!HasFailure()) fs::remove_all(dir_);
  }

  fs::path audit_log() const { return dir_ / "root" / kAuditPath; }
  fs::path manifest(const std::string& text, const std::string& name = "manifest.yaml") {
    write(dir_ / name, text);
    return dir_ / name;
  }
  std::string out() const { return slurp(dir_ / "stdout"); }
  std::string err() const { return slurp(dir_ / "stderr"); }
  nlohmann::json summary() const { return nlohmann::json::parse(slurp(dir_ / "summary.json")); }

  // The §13 node, zone and read time, so that the bytes are the worked example's.
  std::vector<std::string> example_flags() const {
    return {"--root", (dir_ / "root").string(), "--node-name", "master-0", "--node-ip", "10.0.0.5", "--pod-name",
            "log-shipper-agent-7xk2p", "--timezone", "+03:00", "--clock", "fixed:2025-01-15T07:20:30.130512345Z",
            "--summary", (dir_ / "summary.json").string()};
  }

  void start(std::vector<std::string> args) {
    args.insert(args.begin(), KUMASIM_SHIPPER_BINARY);
    process_.emplace(args, dir_ / "stdout", dir_ / "stderr");
  }
  // Runs to completion; the exit status.
  int run(std::vector<std::string> args) {
    start(std::move(args));
    const auto status = process_->wait(60);
    EXPECT_TRUE(status.has_value()) << "timed out\n" << err();
    process_.reset();
    return status.value_or(-1);
  }
  std::vector<std::string> stdout_run(const fs::path& manifest_file, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"run", manifest_file.string(), "--once", "--stdout"};
    for (auto& a : example_flags()) args.push_back(a);
    for (auto& a : extra) args.push_back(a);
    return args;
  }

  fs::path dir_;
  std::optional<ChildProcess> process_;
};

// ------------------------------------------------------------ wire bytes

TEST_F(Shipper, WorkedExampleBytesForEachCodec) {
  write(audit_log(), kAuditLine + "\n");
  for (const auto& [codec, file] : {std::pair{"JSON", "dkp-gen-c-tcp.json"}, {"CEF", "dkp-gen-c-tcp.cef"},
                                    {"Syslog", "dkp-gen-c-tcp.syslog"}}) {
    ASSERT_EQ(run(stdout_run(manifest(socket_manifest("TCP", codec, 5514)))), 0) << err();
    EXPECT_EQ(out(), read_file(std::string("fixtures/wire/") + file)) << codec;
  }
  ASSERT_EQ(run(stdout_run(manifest(socket_manifest("TCP", "Text", 5514)))), 0) << err();
  EXPECT_EQ(out(), kAuditLine + "\n");
}

// Compares line by line so that a failure shows the first differing line, not two whole files.
void expect_same_lines(const std::string& actual, const std::string& expected, const std::string& what) {
  std::istringstream a(actual), e(expected);
  std::string line_a, line_e;
  for (int n = 1;; ++n) {
    const bool more_a = static_cast<bool>(std::getline(a, line_a)), more_e = static_cast<bool>(std::getline(e, line_e));
    if (!more_a && !more_e) break;
    if (more_a != more_e || line_a != line_e) {
      ADD_FAILURE() << what << ": line " << n << " differs\n  actual:   " << (more_a ? line_a : "<end>")
                    << "\n  expected: " << (more_e ? line_e : "<end>");
      return;
    }
  }
  EXPECT_EQ(actual, expected) << what;  // the same lines: only a final LF can differ
}

// Golden files: the first lines of every recorded fixture through every codec
// and profile. KUMASIM_UPDATE_GOLDEN=1 rewrites them (review the diff).
TEST_F(Shipper, GoldenWireBytesOnRecordedAuditLogs) {
  std::string input;
  for (const char* name : {"audit2rbac-demo.log", "falco-k8s-audit-trace-files.log", "sysdiglabs-aks-audit-log.log"}) {
    std::istringstream lines(read_file(std::string("fixtures/audit/") + name));
    std::string line;
    for (int i = 0; i < 8 && std::getline(lines, line); ++i) input += line + "\n";
  }
  write(audit_log(), input);
  const bool update = std::getenv("KUMASIM_UPDATE_GOLDEN") != nullptr;
  for (const char* profile : {"gen-c", "gen-b"}) {
    for (const char* codec : {"JSON", "CEF", "Syslog", "Text", "GELF"}) {
      for (const char* mode : {"TCP", "UDP"}) {
        if (std::string(mode) == "UDP" && std::string(codec) != "JSON") continue;
        ASSERT_EQ(run(stdout_run(manifest(socket_manifest(mode, codec, 5514)), {"--profile", profile})), 0) << err();
        const std::string golden = std::string("tests/data/shipper/golden/") + profile + "-" + mode + "-" + codec + ".out";
        if (update) write(source_path(golden), out());
        expect_same_lines(out(), slurp(source_path(golden)), golden);
      }
    }
  }
}

// ------------------------------------------- the five documented configurations

class DocumentedConfiguration : public Shipper {
 protected:
  // The manifest of fixtures/manifests/ with only the address replaced.
  fs::path documented(const std::string& name) {
    std::string text = read_file("fixtures/manifests/" + name);
    text = std::regex_replace(text, std::regex("IP_ADDRESS:PORT"), "127.0.0.1:5514");
    return manifest(text, name);
  }
  std::string shipped(const std::string& name) {
    write(audit_log(), kAuditLine + "\n" + kControllerLine + "\n" + R"({"kind":"Event"})" + "\n");
    EXPECT_EQ(run(stdout_run(documented(name))), 0) << err();
    return out();
  }
};

TEST_F(DocumentedConfiguration, UdpJsonSendsEveryLine) {
  const std::string json = read_file("fixtures/wire/dkp-gen-c-tcp.json");
  const std::string sent = shipped("kuma-udp-json.yaml");
  EXPECT_TRUE(sent.starts_with(json)) << sent;
  EXPECT_EQ(line_count(sent), 3);
  EXPECT_NE(err().find("udp-large-events"), std::string::npos);
}

TEST_F(DocumentedConfiguration, TcpJsonIgnoresTheVerifyFlags) {
  const std::string sent = shipped("kuma-tcp-json.yaml");
  EXPECT_TRUE(sent.starts_with(read_file("fixtures/wire/dkp-gen-c-tcp.json")));
  EXPECT_NE(err().find("tcp-verify-ignored"), std::string::npos);
}

TEST_F(DocumentedConfiguration, TcpCefKeepsKubeletWithDefaultHeader) {
  EXPECT_EQ(shipped("kuma-tcp-cef.yaml"), read_file("fixtures/wire/dkp-gen-c-tcp.cef"));
  EXPECT_NE(err().find("extralabels-under-socket"), std::string::npos);
  EXPECT_EQ(summary()["dropped_filter"], 2);
}

TEST_F(DocumentedConfiguration, TcpSyslogKeepsKubelet) {
  EXPECT_EQ(shipped("kuma-tcp-syslog.yaml"), read_file("fixtures/wire/dkp-gen-c-tcp.syslog"));
}

TEST_F(DocumentedConfiguration, KafkaJsonValue) {
  EXPECT_EQ(shipped("kuma-kafka.yaml"), read_file("fixtures/wire/dkp-gen-c-tcp.json"));
}

// The documented Kafka configuration (§14 #5) against librdkafka's mock
// cluster: one message on k8s-logs for the kubelet line, value = the JSON
// object without LF, key null.
TEST_F(DocumentedConfiguration, KafkaDeliversToTheBroker) {
  MockCluster cluster(1, 1, "k8s-logs");
  std::string text = read_file("fixtures/manifests/kuma-kafka.yaml");
  text = std::regex_replace(text, std::regex("kafka-address:9092"), cluster.bootstrap_servers().front());
  write(audit_log(), kAuditLine + "\n" + kControllerLine + "\n");
  std::vector<std::string> args = {"run", manifest(text, "kafka.yaml").string(), "--once"};
  for (auto& a : example_flags()) args.push_back(a);
  ASSERT_EQ(run(args), 0) << err();
  const auto records = cluster.consume("k8s-logs", 1);
  ASSERT_EQ(records.size(), 1u);
  std::string json = read_file("fixtures/wire/dkp-gen-c-tcp.json");
  json.pop_back();
  EXPECT_EQ(records[0].value, json);
  EXPECT_EQ(records[0].key, std::nullopt);
  EXPECT_EQ(summary()["destinations"][0]["sent"], 1);
}

// ---------------------------------------------------------------- delivery

TEST_F(Shipper, DeliversOverTcpAndAccountsForEveryLine) {
  TcpReceiver receiver(receiver_options());
  std::string input = numbered_lines(0, 500);
  input += std::string(200 * 1024, 'x') + "\n";  // over the 100 KiB line limit
  input += "not json\n";
  write(audit_log(), input);
  ASSERT_EQ(run({"run", manifest(socket_manifest("TCP", "JSON", receiver.port())).string(), "--once", "--root",
                 (dir_ / "root").string(), "--summary", (dir_ / "summary.json").string()}),
            0)
      << err();
  ASSERT_TRUE(eventually([&] { return receiver.messages().size() == 501; })) << receiver.messages().size();
  const auto lines = receiver.messages();
  EXPECT_NE(lines[0].find(R"(line-0\")"), std::string::npos);
  EXPECT_NE(lines[499].find(R"(line-499\")"), std::string::npos);
  EXPECT_NE(lines[500].find(R"("message":"not json")"), std::string::npos);
  EXPECT_NE(lines[0].find(R"("file":"/var/log/kube-audit/audit.log")"), std::string::npos);  // never the --root prefix
  EXPECT_EQ(err().find("\033[K"), std::string::npos);  // no progress line when stderr is not a terminal
  const auto s = summary();
  EXPECT_EQ(s["read"], 501);
  EXPECT_EQ(s["dropped_oversize_line"], 1);
  EXPECT_EQ(s["destinations"][0]["sent"], 501);
}

TEST_F(Shipper, RetriesWhileTheReceiverRefusesAndLosesNothing) {
  TcpReceiver receiver(receiver_options(/*listening=*/false));  // bound only: connections are refused
  write(audit_log(), numbered_lines(0, 100));
  start({"run", manifest(socket_manifest("TCP", "JSON", receiver.port())).string(), "--once", "--root",
         (dir_ / "root").string(), "--summary", (dir_ / "summary.json").string()});
  ASSERT_TRUE(eventually([&] { return err().find("127.0.0.1:" + std::to_string(receiver.port())) != std::string::npos; }))
      << err();
  receiver.listen();
  ASSERT_EQ(process_->wait(60), 0) << err();
  EXPECT_EQ(receiver.messages().size(), 100u);
  EXPECT_GE(summary()["destinations"][0]["connect_failures"].get<int>(), 1);
}

// The receiver closes the connection after the first 200 lines, as a
// collector that restarts; the next 200 are written while it is gone.
TEST_F(Shipper, ReceiverRestartedMidStreamLosesNothing) {
  TcpReceiver receiver(receiver_options(true, /*close_after=*/200));
  write(audit_log(), numbered_lines(0, 200));
  start({"run", manifest(socket_manifest("TCP", "JSON", receiver.port())).string(), "--root",
         (dir_ / "root").string()});
  ASSERT_TRUE(eventually([&] { return receiver.closed_by_us() == 1; })) << err();
  write(audit_log(), numbered_lines(200, 400), std::ios::app);
  ASSERT_TRUE(eventually([&] { return receiver.messages().size() >= 400; })) << receiver.messages().size() << "\n"
                                                                              << err();
  const auto lines = receiver.messages();
  EXPECT_EQ(lines.size(), 400u);  // no duplicates either: the 200 were acknowledged before the close
  for (int i = 0; i < 400; ++i) {
    const std::string id = "line-" + std::to_string(i) + "\\\"";
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(id) != std::string::npos; }))
        << "lost line " << i;
  }
  EXPECT_EQ(receiver.connections(), 2);
}

TEST_F(Shipper, RestartFromCheckpointHasNoLossAndNoDuplicates) {
  TcpReceiver receiver(receiver_options());
  write(audit_log(), numbered_lines(0, 300));
  const std::vector<std::string> args = {"run", manifest(socket_manifest("TCP", "JSON", receiver.port())).string(),
                                         "--root", (dir_ / "root").string(), "--data-dir", (dir_ / "data").string()};
  start(args);
  ASSERT_TRUE(eventually([&] { return receiver.messages().size() == 300; })) << err();
  process_->signal(SIGTERM);
  ASSERT_EQ(process_->wait(30), 0) << err();
  write(audit_log(), numbered_lines(300, 500), std::ios::app);
  start(args);
  ASSERT_TRUE(eventually([&] { return receiver.messages().size() >= 500; })) << err();
  process_->signal(SIGTERM);
  ASSERT_EQ(process_->wait(30), 0) << err();
  const auto lines = receiver.messages();
  ASSERT_EQ(lines.size(), 500u);  // not one line twice
  for (int i = 0; i < 500; ++i)
    EXPECT_NE(lines[static_cast<std::size_t>(i)].find("line-" + std::to_string(i) + "\\\""), std::string::npos) << i;
}

// SIGUSR2 turns a following run into --once: the lines written before it are
// all delivered, then the run exits 0 with its summary.
TEST_F(Shipper, Sigusr2FinishesLikeOnce) {
  TcpReceiver receiver(receiver_options(/*listening=*/false));  // refused at first: the signal finds lines pending
  write(audit_log(), numbered_lines(0, 100));
  start({"run", manifest(socket_manifest("TCP", "JSON", receiver.port())).string(), "--root", (dir_ / "root").string(),
         "--summary", (dir_ / "summary.json").string()});
  ASSERT_TRUE(eventually([&] { return err().find("127.0.0.1:" + std::to_string(receiver.port())) != std::string::npos; }))
      << err();
  write(audit_log(), numbered_lines(100, 150), std::ios::app);
  process_->signal(SIGUSR2);
  receiver.listen();
  ASSERT_EQ(process_->wait(60), 0) << err();
  EXPECT_EQ(summary()["read"], 150);
  EXPECT_TRUE(eventually([&] { return receiver.messages().size() == 150; })) << receiver.messages().size();
}

TEST_F(Shipper, FollowsRotationLikeTailF) {
  TcpReceiver receiver(receiver_options());
  write(audit_log(), numbered_lines(0, 100));
  start({"run", manifest(socket_manifest("TCP", "JSON", receiver.port())).string(), "--root",
         (dir_ / "root").string()});
  ASSERT_TRUE(eventually([&] { return receiver.messages().size() == 100; })) << err();
  fs::rename(audit_log(), audit_log().string() + ".1");
  write(audit_log().string() + ".1", numbered_lines(100, 150), std::ios::app);  // the writer still had it open
  write(audit_log(), numbered_lines(150, 300));
  ASSERT_TRUE(eventually([&] { return receiver.messages().size() >= 300; })) << err();
  const auto lines = receiver.messages();
  ASSERT_EQ(lines.size(), 300u);
  for (int i = 0; i < 300; ++i)
    EXPECT_NE(lines[static_cast<std::size_t>(i)].find("line-" + std::to_string(i) + "\\\""), std::string::npos) << i;
}

// ---------------------------------------------------------------------- TLS

// The manifest's TLS material is base64 of PEM (§3.3); TLS is on because caFile is set.
class TlsShipper : public Shipper {
 protected:
  void SetUp() override {
    Shipper::SetUp();
    ASSERT_FALSE(pki::generate({}, bundle_).has_value());
    ASSERT_FALSE(pki::generate({}, other_).has_value());
  }
  std::string tls_manifest(std::uint16_t port, const std::string& ca_pem, const std::string& client = "") {
    return socket_manifest("TCP", "JSON", port,
                           "    tcp:\n      tls:\n        caFile: " + formats::base64_encode(ca_pem) + "\n" + client);
  }
  pki::Bundle bundle_, other_;
};

TEST_F(TlsShipper, VerifiesTheServerAgainstCaFile) {
  auto context = server_tls(bundle_);
  TcpReceiver receiver(receiver_options(true, 0, context.get()));
  write(audit_log(), numbered_lines(0, 50));
  ASSERT_EQ(run({"run", manifest(tls_manifest(receiver.port(), bundle_.ca.cert_pem)).string(), "--once", "--root",
                 (dir_ / "root").string()}),
            0)
      << err();
  EXPECT_EQ(receiver.messages().size(), 50u);
}

TEST_F(TlsShipper, MutualTlsWithAnEncryptedClientKey) {
  auto context = server_tls(bundle_, bundle_.ca.cert_pem);
  TcpReceiver receiver(receiver_options(true, 0, context.get()));
  write(audit_log(), numbered_lines(0, 50));
  const std::string client = "        clientCrt:\n          crtFile: " + formats::base64_encode(bundle_.client.cert_pem) +
                             "\n          keyFile: " +
                             formats::base64_encode(encrypted_key(bundle_.client.key_pem, "s3cret")) +
                             "\n          keyPass: " + formats::base64_encode("s3cret") + "\n";
  ASSERT_EQ(run({"run", manifest(tls_manifest(receiver.port(), bundle_.ca.cert_pem, client)).string(), "--once",
                 "--root", (dir_ / "root").string()}),
            0)
      << err();
  EXPECT_EQ(receiver.messages().size(), 50u);
}

TEST_F(TlsShipper, AWrongCaIsRefusedAndNamed) {
  auto context = server_tls(bundle_);
  TcpReceiver receiver(receiver_options(true, 0, context.get()));
  write(audit_log(), numbered_lines(0, 5));
  start({"run", manifest(tls_manifest(receiver.port(), other_.ca.cert_pem)).string(), "--root",
         (dir_ / "root").string(), "--shutdown-timeout", "100"});
  ASSERT_TRUE(eventually([&] { return err().find("certificate verify failed") != std::string::npos; })) << err();
  process_->signal(SIGTERM);
  EXPECT_EQ(process_->wait(30), 0) << err();
  EXPECT_EQ(receiver.messages().size(), 0u);
}

// ------------------------------------------------------------------ bad input

TEST_F(Shipper, InvalidManifestExitsTwoAndSendsNothing) {
  TcpReceiver receiver(receiver_options());
  write(audit_log(), numbered_lines(0, 10));
  std::string text = socket_manifest("TCP", "JSON", receiver.port());
  text.replace(text.find("mode: TCP"), 9, "mode: tcp");
  EXPECT_EQ(run({"run", manifest(text).string(), "--once", "--root", (dir_ / "root").string()}), 2);
  EXPECT_NE(err().find("spec.socket.mode"), std::string::npos) << err();
  EXPECT_EQ(receiver.connections(), 0);
}

TEST_F(Shipper, AnUnreadableInputIsReportedAndTheOthersGoOn) {
  write(dir_ / "root/var/log/kube-audit/a.log", numbered_lines(0, 3));
  fs::create_directories(dir_ / "root/var/log/kube-audit/b.log");  // matches the glob, cannot be read as a file
  std::string text = socket_manifest("TCP", "JSON", 5514);
  text.replace(text.find("/var/log/kube-audit/audit.log"), 29, "/var/log/kube-audit/*.log");
  ASSERT_EQ(run(stdout_run(manifest(text))), 0) << err();
  EXPECT_EQ(line_count(out()), 3);
}

TEST_F(Shipper, ReplayRateSpacesEvents) {
  write(audit_log(), numbered_lines(0, 21));
  const auto start_time = std::chrono::steady_clock::now();
  ASSERT_EQ(run(stdout_run(manifest(socket_manifest("TCP", "JSON", 5514)), {"--rate", "100/s"})), 0) << err();
  // 21 events at 100/s cannot take less than 200 ms (an upper bound would be a timing test).
  EXPECT_GE(std::chrono::steady_clock::now() - start_time, std::chrono::milliseconds(200));
  EXPECT_EQ(line_count(out()), 21);
}

TEST_F(Shipper, ReplayAtTheRecordedPace) {
  std::string input;
  for (int s = 0; s < 3; ++s)
    input += R"({"kind":"Event","requestReceivedTimestamp":"2025-01-15T07:20:3)" + std::to_string(s) + R"(.000000Z"})" + "\n";
  write(audit_log(), input);
  const auto start_time = std::chrono::steady_clock::now();
  ASSERT_EQ(run(stdout_run(manifest(socket_manifest("TCP", "JSON", 5514)), {"--pace", "recorded", "--speed", "10"})), 0)
      << err();
  EXPECT_GE(std::chrono::steady_clock::now() - start_time, std::chrono::milliseconds(200));  // 2 s of records at 10x
}

}  // namespace
}  // namespace kumasim::testing
