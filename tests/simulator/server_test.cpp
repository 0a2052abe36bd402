// The listeners on real loopback sockets (port 0), driven by a real client;
// assertions read the store and the counters, with bounded polling.
#include "simulator/asio.h"
#include "simulator/pki.h"
#include "simulator/server.h"
#include "simulator/tls_context.h"

#include <boost/asio/ssl.hpp>

#include "support/eventually.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

namespace kumasim::sim {
namespace {

using asio::ip::tcp;
using asio::ip::udp;

ListenerConfig listener(std::string_view url) {
  auto parsed = parse_listener_url(url, 1);
  EXPECT_TRUE(std::holds_alternative<ListenerConfig>(parsed)) << std::get<std::string>(parsed);
  return std::get<ListenerConfig>(parsed);
}

using kumasim::testing::eventually;

class ServerTest : public ::testing::Test {
 protected:
  void start(std::vector<std::string_view> urls, std::uint64_t max_store = 64 << 20) {
    ServerConfig config;
    for (auto url : urls) config.listeners.push_back(listener(url));
    config.max_store = max_store;
    config.io_threads = 2;
    server_ = std::make_unique<Server>(std::move(config));
  }
  std::uint16_t port(std::size_t i) const { return server_->listeners_json()[i]["port"].get<std::uint16_t>(); }
  std::uint64_t counter(const std::string& listener, const std::string& name) const {
    return server_->stats_json()["listeners"][listener][name].get<std::uint64_t>();
  }
  std::uint64_t lint(const std::string& listener, const std::string& id) const {
    return server_->stats_json()["listeners"][listener]["lints"].value(id, std::uint64_t{0});
  }
  std::vector<nlohmann::json> events(const std::string& listener = {}) {
    EventQuery query;
    query.listener = listener;
    EventRenderer render;
    std::vector<nlohmann::json> out;
    for (const auto& e : server_->store().find(query)) out.push_back(render(e));
    return out;
  }
  bool frames_reach(const std::string& listener, std::uint64_t n) {
    return eventually([&] { return counter(listener, "frames") >= n; });
  }

  asio::io_context io_;
  std::unique_ptr<Server> server_;
};

tcp::socket connect(asio::io_context& io, std::uint16_t port) {
  tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  return socket;
}

TEST_F(ServerTest, TcpFramesSplitAcrossWritesAndConnections) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=cef"});
  auto a = connect(io_, port(0));
  auto b = connect(io_, port(0));
  asio::write(a, asio::buffer(std::string("CEF:0|V|P|1|C|N|3|act=one\nCEF:0|V|P|1|C|")));
  asio::write(b, asio::buffer(std::string("CEF:0|V|P|1|C|N|3|act=other\n")));
  asio::write(a, asio::buffer(std::string("N|3|act=two\n")));
  ASSERT_TRUE(frames_reach("kuma", 3));
  std::multiset<std::string> actions;
  for (const auto& e : events("kuma")) actions.insert(e["kuma"]["DeviceAction"].get<std::string>());
  EXPECT_EQ(actions, (std::multiset<std::string>{"one", "other", "two"}));
  EXPECT_EQ(counter("kuma", "connections"), 2u);
  EXPECT_EQ(counter("kuma", "decode_errors"), 0u);
}

TEST_F(ServerTest, HalfClosedConnectionKeepsItsUnterminatedTail) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  auto socket = connect(io_, port(0));
  asio::write(socket, asio::buffer(std::string("first\nlast words")));
  socket.shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(frames_reach("kuma", 2));
  const auto all = events("kuma");
  EXPECT_EQ(all[1]["raw"], "last words");
  EXPECT_EQ(all[1]["lints"][0]["id"], "frame-unterminated");
  EXPECT_TRUE(eventually([&] { return counter("kuma", "open_connections") == 0; }));
}

TEST_F(ServerTest, ResetConnectionsDoNotStopTheListener) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  for (int i = 0; i < 20; ++i) {
    auto socket = connect(io_, port(0));
    asio::write(socket, asio::buffer(std::string("partial")));
    socket.set_option(asio::socket_base::linger(true, 0));  // close sends RST
    socket.close();
  }
  auto good = connect(io_, port(0));
  asio::write(good, asio::buffer(std::string("intact\n")));
  // Events of different connections arrive in any order: look for it among all.
  ASSERT_TRUE(eventually([&] {
    const auto all = events("kuma");
    return std::any_of(all.begin(), all.end(), [](const nlohmann::json& e) { return e["raw"] == "intact"; });
  }));
}

TEST_F(ServerTest, GarbageTlsAndOversizeFramesAreReportedAndTheNextEventArrivesIntact) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=cef"});
  auto socket = connect(io_, port(0));
  const std::string client_hello("\x16\x03\x01\x00\x05hello\n", 11);
  const std::string binary("\x00\xff\xfe garbage \x80\n", 14);
  const std::string oversize(5 * 1024 * 1024, 'x');  // over KUMA's 4 MB and the kept limit
  const std::string last = "CEF:0|V|P|1|C|N|3|act=ok\n";
  asio::write(socket, asio::buffer(client_hello + binary + oversize + "\n" + last));
  ASSERT_TRUE(frames_reach("kuma", 4));
  const auto all = events("kuma");
  EXPECT_EQ(all[0]["lints"].dump().find("tls-mismatch") != std::string::npos, true) << all[0];
  EXPECT_TRUE(all[1].contains("raw_base64"));
  EXPECT_NE(all[1]["lints"].dump().find("non-utf8"), std::string::npos);
  EXPECT_EQ(all[2]["size"], oversize.size());
  EXPECT_TRUE(all[2]["truncated"].get<bool>());
  EXPECT_NE(all[2]["lints"].dump().find("event-over-4mb"), std::string::npos);
  EXPECT_EQ(all[3]["kuma"]["DeviceAction"], "ok");
  EXPECT_EQ(counter("kuma", "lost_oversize"), 1u);
  EXPECT_EQ(counter("kuma", "bytes"), client_hello.size() + binary.size() + oversize.size() + 1 + last.size());
}

TEST_F(ServerTest, AnUnterminated100MbFrameIsReportedAndMemoryStaysBounded) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  auto flood = connect(io_, port(0));
  const std::string chunk(1 << 20, 'z');
  for (int i = 0; i < 100; ++i) asio::write(flood, asio::buffer(chunk));  // 100 MiB, no delimiter
  flood.close();
  ASSERT_TRUE(frames_reach("kuma", 1));
  const auto all = events("kuma");
  EXPECT_EQ(all[0]["size"], 100u << 20);
  EXPECT_TRUE(all[0]["truncated"].get<bool>());
  EXPECT_LE(all[0]["raw"].get<std::string>().size(), formats::kKumaMaxEventSize + 1);  // what was kept
  EXPECT_NE(all[0]["lints"].dump().find("frame-unterminated"), std::string::npos);
  auto next = connect(io_, port(0));
  asio::write(next, asio::buffer(std::string("after\n")));
  ASSERT_TRUE(frames_reach("kuma", 2));
  EXPECT_EQ(events("kuma")[1]["raw"], "after");
}

TEST_F(ServerTest, AThousandIdleConnectionsDoNotBlockTraffic) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 1000; ++i) idle.push_back(connect(io_, port(0)));
  ASSERT_TRUE(eventually([&] { return counter("kuma", "open_connections") == 1000; }));
  auto active = connect(io_, port(0));
  asio::write(active, asio::buffer(std::string("through\n")));
  ASSERT_TRUE(frames_reach("kuma", 1));
  EXPECT_EQ(events("kuma")[0]["raw"], "through");
}

TEST_F(ServerTest, UdpDatagramIsOneEventAndOversizeIsFlagged) {
  start({"udp://127.0.0.1:0?name=u&codec=json", "udp://127.0.0.1:0?name=split&codec=raw&delimiter=lf"});
  udp::socket socket(io_, udp::endpoint(udp::v4(), 0));
  const udp::endpoint u(asio::ip::make_address("127.0.0.1"), port(0));
  const udp::endpoint split(asio::ip::make_address("127.0.0.1"), port(1));
  socket.send_to(asio::buffer(std::string(R"({"a":"b\nc"})")), u);
  const std::string big = R"({"message":")" + std::string(20000, 'y') + R"("})";
  socket.send_to(asio::buffer(big), u);
  socket.send_to(asio::buffer(std::string("one\ntwo\n")), split);
  ASSERT_TRUE(frames_reach("u", 2));
  ASSERT_TRUE(frames_reach("split", 2));
  const auto all = events("u");
  EXPECT_EQ(all[0]["ok"], true);
  EXPECT_EQ(all[1]["size"], big.size());
  EXPECT_EQ(all[1]["raw"], big);  // the whole datagram is kept
  EXPECT_EQ(all[1]["kuma_read"], 16384);  // what KUMA's buffer holds
  EXPECT_EQ(all[1]["ok"], false);  // KUMA's 16 KB buffer cut it: not a JSON object any more
  EXPECT_NE(all[1]["lints"].dump().find("udp-over-kuma-buffer"), std::string::npos);
  EXPECT_EQ(counter("u", "truncations"), 1u);
  const auto parts = events("split");
  EXPECT_EQ(parts[0]["raw"], "one");
  EXPECT_EQ(parts[1]["raw"], "two");
}

class TlsServerTest : public ServerTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kumasim-tls-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    pki::Bundle bundle;
    ASSERT_FALSE(pki::create(dir_.string(), {}, false, bundle));
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string file(const char* name) const { return (dir_ / name).string(); }
  std::string url(const char* mode) const {
    return std::string("tls://127.0.0.1:0?name=tls&codec=raw&mode=") + mode + "&cert=" + file("server.pem") +
           "&key=" + file("server-key.pem") + "&ca=" + file("ca.pem");
  }

  // Connects, handshakes (verifying the server as 127.0.0.1) and writes `text`; returns the handshake error.
  boost::system::error_code send_tls(bool with_client_cert, const std::string& text) {
    auto context = with_client_cert
                       ? tls::make_client_context(file("ca.pem"), tls::CertificateFiles{file("client.pem"), file("client-key.pem")})
                       : tls::make_client_context(file("ca.pem"));
    asio::ssl::stream<tcp::socket> stream(connect(io_, port(0)), context);
    tls::set_server_host(stream.native_handle(), "127.0.0.1");
    boost::system::error_code ec;
    stream.handshake(asio::ssl::stream_base::client, ec);
    if (!ec) asio::write(stream, asio::buffer(text), ec);
    if (!ec) stream.shutdown(ec);
    return ec;
  }

  std::filesystem::path dir_;
};

TEST_F(TlsServerTest, EncryptModeReceivesOverTls) {
  start({url("encrypt")});
  ASSERT_FALSE(send_tls(false, "over tls\n"));
  ASSERT_TRUE(frames_reach("tls", 1));
  EXPECT_EQ(events("tls")[0]["raw"], "over tls");
  EXPECT_EQ(events("tls")[0]["transport"], "tls");
}

TEST_F(TlsServerTest, VerifyModeRequiresAClientCertificate) {
  start({url("verify")});
  send_tls(false, "refused\n");  // TLS 1.3: the client may learn of the refusal only later
  ASSERT_TRUE(eventually([&] { return counter("tls", "tls_failures") == 1; }));
  ASSERT_FALSE(send_tls(true, "mutual\n"));
  ASSERT_TRUE(frames_reach("tls", 1));
  EXPECT_EQ(events("tls")[0]["raw"], "mutual");
  EXPECT_EQ(counter("tls", "frames"), 1u);
}

TEST_F(TlsServerTest, APortProbeThatSendsNothingIsNoTlsFailure) {
  start({url("encrypt")});
  connect(io_, port(0)).close();
  ASSERT_TRUE(eventually([&] { return counter("tls", "connections") == 1 && counter("tls", "open_connections") == 0; }));
  EXPECT_EQ(counter("tls", "tls_failures"), 0u);
}

TEST_F(TlsServerTest, PlainTextOnTheTlsPortIsAMismatchAndTheListenerStaysUp) {
  start({url("encrypt")});
  {
    auto plain = connect(io_, port(0));
    asio::write(plain, asio::buffer(std::string("<14>1 - - - - - - plain\n")));
    boost::system::error_code ignored;
    char byte;
    plain.read_some(asio::buffer(&byte, 1), ignored);  // the server gives up on the handshake and closes
  }
  ASSERT_TRUE(eventually([&] { return counter("tls", "tls_failures") == 1; }));
  EXPECT_EQ(lint("tls", "tls-mismatch"), 1u);
  EXPECT_EQ(server_->stats_json()["listeners"]["tls"]["tls_failure_reasons"]["plain text on a TLS listener"], 1);
  ASSERT_FALSE(send_tls(false, "next\n"));
  ASSERT_TRUE(frames_reach("tls", 1));
}

TEST_F(ServerTest, DelimitedUdpDatagramOverTheKumaBufferIsSplitAndCutWhereKumaStopsReading) {
  start({"udp://127.0.0.1:0?name=split&codec=raw&delimiter=lf&buffer=1000"});
  udp::socket socket(io_, udp::endpoint(udp::v4(), 0));
  const udp::endpoint to(asio::ip::make_address("127.0.0.1"), port(0));
  std::string datagram;
  for (int i = 0; i < 10; ++i) datagram += std::string(299, static_cast<char>('a' + i)) + "\n";  // 3000 bytes
  socket.send_to(asio::buffer(datagram), to);
  ASSERT_TRUE(frames_reach("split", 10));
  const auto parts = events("split");
  // KUMA reads bytes 0-999: parts 0-2 whole, part 3 (900-1198) cut after 100 bytes, parts 4-9 never.
  EXPECT_EQ(parts[0]["ok"], true);
  EXPECT_EQ(parts[3]["kuma"]["Message"], std::string(100, 'd'));
  EXPECT_EQ(parts[4]["ok"], false);
  EXPECT_EQ(parts[4]["error"]["reason"], "beyond KUMA's UDP buffer: KUMA never reads it");
  EXPECT_EQ(parts[9]["raw"], std::string(299, 'j'));  // still kept whole
  for (const auto& part : parts) EXPECT_NE(part["lints"].dump().find("udp-over-kuma-buffer"), std::string::npos);
  EXPECT_EQ(counter("split", "bytes"), 3000u);
  EXPECT_EQ(counter("split", "truncations"), 10u);  // every part of the datagram KUMA cut
}

TEST_F(ServerTest, EmptyUdpPartsAreCountedAndBytesAreTheDatagram) {
  start({"udp://127.0.0.1:0?name=split&codec=raw&delimiter=lf"});
  udp::socket socket(io_, udp::endpoint(udp::v4(), 0));
  socket.send_to(asio::buffer(std::string("x\n\n\ny\n")), udp::endpoint(asio::ip::make_address("127.0.0.1"), port(0)));
  ASSERT_TRUE(frames_reach("split", 2));
  EXPECT_EQ(counter("split", "bytes"), 6u);
  EXPECT_EQ(counter("split", "empty_frames"), 2u);
  EXPECT_EQ(lint("split", "empty-frame"), 1u);
  EXPECT_EQ(events("split")[1]["delimited"], "lf");
}

TEST_F(ServerTest, OctetCountedBytesAndHowEachEventEnded) {
  start({"tcp://127.0.0.1:0?name=rfc&codec=raw&framing=rfc6587"});
  auto socket = connect(io_, port(0));
  const std::string stream = "5 hello11 hello world3x y\nlast";  // a good count, another, a bad one, a tail
  asio::write(socket, asio::buffer(stream));
  socket.shutdown(tcp::socket::shutdown_send);
  ASSERT_TRUE(frames_reach("rfc", 3));
  ASSERT_TRUE(eventually([&] { return counter("rfc", "open_connections") == 0; }));
  EXPECT_EQ(counter("rfc", "bytes"), stream.size());
  const auto all = events("rfc");
  EXPECT_EQ(all[0]["delimited"], "octet-count");
  EXPECT_EQ(all[1]["raw"], "hello world");
  EXPECT_EQ(all[2]["ok"], false);  // "3x y": not MSG-LEN SP
  EXPECT_EQ(all[2]["error"]["reason"], "octet count is not MSG-LEN SP");
}

TEST_F(ServerTest, TlsHandshakeOnAPlainListenerIsCountedAsAFailure) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  auto socket = connect(io_, port(0));
  asio::write(socket, asio::buffer(std::string("\x16\x03\x01\x00\x05hello\n", 11)));
  ASSERT_TRUE(frames_reach("kuma", 1));
  EXPECT_EQ(counter("kuma", "tls_failures"), 1u);
  EXPECT_EQ(server_->stats_json()["listeners"]["kuma"]["tls_failure_reasons"]["TLS handshake on a plain listener"], 1);
}

TEST_F(ServerTest, UdpKernelDropsAreCountedSoEveryDatagramIsAccountedFor) {
  start({"udp://127.0.0.1:0?name=u&codec=raw&rcvbuf=1"});  // the kernel's smallest receive buffer
  udp::socket socket(io_, udp::endpoint(udp::v4(), 0));
  const udp::endpoint to(asio::ip::make_address("127.0.0.1"), port(0));
  const int flood = 20000;
  for (int i = 0; i < flood; ++i) socket.send_to(asio::buffer(std::string(200, 'd')), to);
  // Drops are reported with the next datagram the socket receives: once the flood is read, send one more.
  std::uint64_t seen = 0;
  ASSERT_TRUE(eventually([&] {
    const auto now = counter("u", "frames");
    const bool settled = now == seen;
    seen = now;
    return settled && now > 0;
  }));
  socket.send_to(asio::buffer(std::string("last")), to);
  ASSERT_TRUE(eventually([&] { return counter("u", "frames") + counter("u", "udp_kernel_drops") == flood + 1u; }))
      << "frames " << counter("u", "frames") << ", drops " << counter("u", "udp_kernel_drops");
  EXPECT_GT(counter("u", "udp_kernel_drops"), 0u) << "the flood should overrun a minimal buffer";
}

TEST(ServerConfigErrors, AMissingCertificateIsNamed) {
  ServerConfig config;
  config.listeners.push_back(listener("tls://127.0.0.1:0?name=t&cert=/nonexistent/s.pem&key=/nonexistent/k.pem"));
  try {
    Server server(std::move(config));
    FAIL() << "started";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("listener t"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("/nonexistent/s.pem"), std::string::npos) << e.what();
  }
}

TEST(ServerConfigErrors, AnUnbindableListenerIsNamed) {
  ServerConfig config;
  config.listeners.push_back(listener("tcp://192.0.2.1:1?name=nowhere"));  // TEST-NET: not a local address
  try {
    Server server(std::move(config));
    FAIL() << "bound";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("listener nowhere (192.0.2.1:1)"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace kumasim::sim
