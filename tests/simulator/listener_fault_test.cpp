// Faults injected into running TCP and TLS listeners (listener_fault.h):
// dropped connections, refused connections, a slow reader, failed TLS
// handshakes, on real loopback sockets (port 0), and their control API bodies.
// Waits are bounded polls; assertions on time are only ever bounds that a
// slow machine cannot break (a loaded machine reads less, not more).
#include "simulator/asio.h"
#include "simulator/control_api.h"
#include "simulator/pki.h"
#include "simulator/server.h"
#include "simulator/tls_context.h"

#include <boost/asio/ssl.hpp>

#include "support/eventually.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

namespace kumasim::sim {
namespace {

using asio::ip::tcp;
using kumasim::testing::eventually;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

ListenerConfig listener(const std::string& url) {
  auto parsed = parse_listener_url(url, 1);
  EXPECT_TRUE(std::holds_alternative<ListenerConfig>(parsed)) << std::get<std::string>(parsed);
  return std::get<ListenerConfig>(parsed);
}

ListenerFault fault(ListenerFault::Kind kind, milliseconds duration = milliseconds(0), std::uint64_t rate = 0) {
  ListenerFault f;
  f.kind = kind;
  f.duration = duration;
  f.bytes_per_second = rate;
  return f;
}

// Waits (at most 10 s) for `socket` to become readable and reads once: the
// error says how the connection ended (timed_out when it did not).
boost::system::error_code read_end(tcp::socket& socket) {
  pollfd p{socket.native_handle(), POLLIN, 0};
  if (::poll(&p, 1, 10000) != 1) return asio::error::timed_out;
  char byte;
  boost::system::error_code ec;
  socket.read_some(asio::buffer(&byte, 1), ec);
  return ec;
}

class ListenerFaultTest : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& urls) {
    ServerConfig config;
    for (const auto& url : urls) config.listeners.push_back(listener(url));
    config.io_threads = 2;
    server_ = std::make_unique<Server>(std::move(config));
  }
  std::uint16_t port(std::size_t i = 0) const { return server_->listeners_json()[i]["port"].get<std::uint16_t>(); }
  std::uint64_t counter(const std::string& name, const std::string& listener = "kuma") const {
    return server_->stats_json()["listeners"][listener][name].get<std::uint64_t>();
  }
  std::vector<nlohmann::json> events() {
    EventRenderer render;
    std::vector<nlohmann::json> out;
    EventQuery query;
    query.limit = 100000;
    for (const auto& e : server_->store().find(query)) out.push_back(render(e));
    return out;
  }
  void inject(const ListenerFault& f, const std::string& name = "kuma") {
    const auto result = server_->inject_listener_fault(name, f);
    ASSERT_EQ(result.kind, Server::FaultResult::Kind::applied) << result.message;
  }
  boost::system::error_code try_connect(tcp::socket& socket, std::uint16_t to) {
    boost::system::error_code ec;
    socket.connect({asio::ip::make_address("127.0.0.1"), to}, ec);
    return ec;
  }
  tcp::socket connect() {
    tcp::socket socket(io_);
    EXPECT_FALSE(try_connect(socket, port()));
    return socket;
  }

  asio::io_context io_;
  std::unique_ptr<Server> server_;
};

TEST_F(ListenerFaultTest, DropClosesEveryOpenConnectionKeepsWhatWasReadAndTheListenerGoesOn) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  auto a = connect();
  auto b = connect();
  const std::string sent = "kept\npartial";
  asio::write(a, asio::buffer(sent));
  ASSERT_TRUE(eventually([&] { return counter("open_connections") == 2 && counter("bytes") == sent.size(); }));
  inject(fault(ListenerFault::Kind::drop_connections));
  EXPECT_EQ(read_end(a), asio::error::eof);
  EXPECT_EQ(read_end(b), asio::error::eof);
  ASSERT_TRUE(eventually([&] { return counter("open_connections") == 0 && counter("frames") == 2; }));
  const auto all = events();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["raw"], "kept");
  EXPECT_EQ(all[1]["raw"], "partial");  // as when the peer closes: the tail is an event
  EXPECT_EQ(all[1]["delimited"], "end-of-stream");
  EXPECT_EQ(all[1]["lints"][0]["id"], "frame-unterminated");

  auto again = connect();  // the listener was not touched
  asio::write(again, asio::buffer(std::string("after\n")));
  ASSERT_TRUE(eventually([&] { return counter("frames") == 3; }));
  EXPECT_EQ(events()[2]["raw"], "after");
  EXPECT_EQ(counter("connections"), 3u);
  EXPECT_EQ(counter("faults_applied"), 1u);
  EXPECT_EQ(counter("accept_errors"), 0u);
}

TEST_F(ListenerFaultTest, DropWithNoConnectionOpenIsANoOp) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  inject(fault(ListenerFault::Kind::drop_connections));
  auto socket = connect();
  asio::write(socket, asio::buffer(std::string("one\n")));
  ASSERT_TRUE(eventually([&] { return counter("frames") == 1; }));
}

TEST_F(ListenerFaultTest, RefusedForAWhileThenAcceptedAgainOnTheSamePort) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  const auto bound = port();
  auto kept = connect();
  ASSERT_TRUE(eventually([&] { return counter("open_connections") == 1; }));
  const auto refusal = milliseconds(300);
  const auto before = Clock::now();
  inject(fault(ListenerFault::Kind::refuse_connections, refusal));
  tcp::socket refused(io_);
  const auto ec = try_connect(refused, bound);
  // Only an attempt made within the refusal must be refused; on a loaded
  // machine this thread may get here later (then the attempt proves nothing).
  if (Clock::now() - before < refusal) {
    EXPECT_EQ(ec, asio::error::connection_refused) << ec.message();
  }
  ASSERT_TRUE(eventually([&] {
    tcp::socket socket(io_);
    return !try_connect(socket, bound);
  }));
  EXPECT_EQ(port(), bound);
  // The connection open before the refusal stayed up.
  asio::write(kept, asio::buffer(std::string("still here\n")));
  ASSERT_TRUE(eventually([&] { return counter("frames") == 1; }));
  EXPECT_EQ(events()[0]["raw"], "still here");
  EXPECT_EQ(counter("accept_errors"), 0u);
}

TEST_F(ListenerFaultTest, RefusalHoldsUntilEndedAndNewConnectionsAreServedAfter) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  const auto bound = port();
  inject(fault(ListenerFault::Kind::refuse_connections, milliseconds(3600 * 1000)));
  for (int i = 0; i < 3; ++i) {  // refused once inject() has returned, however late this runs
    tcp::socket refused(io_);
    EXPECT_EQ(try_connect(refused, bound), asio::error::connection_refused);
  }
  inject(fault(ListenerFault::Kind::refuse_connections, milliseconds(0)));  // 0 ends it: listening on return
  tcp::socket socket(io_);
  ASSERT_FALSE(try_connect(socket, bound));
  asio::write(socket, asio::buffer(std::string("back\n")));
  ASSERT_TRUE(eventually([&] { return counter("frames") == 1; }));
  EXPECT_EQ(counter("connections"), 1u);
  EXPECT_EQ(counter("faults_applied"), 2u);
}

TEST_F(ListenerFaultTest, APortTakenMeanwhileIsCountedAndListeningIsRetried) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  const tcp::endpoint bound(asio::ip::make_address("127.0.0.1"), port());
  inject(fault(ListenerFault::Kind::refuse_connections, milliseconds(3600 * 1000)));
  auto squatter = std::make_unique<tcp::acceptor>(io_, bound);  // someone else listens on the port
  inject(fault(ListenerFault::Kind::refuse_connections, milliseconds(0)));  // listening again fails
  EXPECT_EQ(counter("accept_errors"), 1u);
  squatter.reset();
  ASSERT_TRUE(eventually([&] {  // tried again a second later
    tcp::socket socket(io_);
    if (try_connect(socket, bound.port())) return false;
    asio::write(socket, asio::buffer(std::string("served\n")));
    return true;
  }));
  ASSERT_TRUE(eventually([&] { return counter("frames") == 1; }));
  EXPECT_EQ(events()[0]["raw"], "served");
}

// 4096 lines of 1 KiB: "000042 xxx…x\n".
std::string numbered_lines(int count) {
  std::string out;
  out.reserve(static_cast<std::size_t>(count) * 1024);
  for (int i = 0; i < count; ++i) {
    char number[16];
    std::snprintf(number, sizeof number, "%06d ", i);
    out += number;
    out.append(1024 - 8, 'x');
    out += '\n';
  }
  return out;
}

TEST_F(ListenerFaultTest, SlowReaderStallsTheSenderThenEverythingArrivesIntact) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  constexpr std::uint64_t kRate = 64 * 1024;
  constexpr auto kSlow = milliseconds(1000);
  constexpr std::uint64_t kChunk = kRate / 10;  // one read's reservation
  const std::string data = numbered_lines(4096);  // 4 MiB
  const auto before = Clock::now();
  inject(fault(ListenerFault::Kind::slow_reader, kSlow, kRate));
  tcp::socket socket = connect();
  socket.set_option(asio::socket_base::send_buffer_size(64 * 1024));
  socket.non_blocking(true);
  std::size_t written = 0;
  bool stalled = false;
  std::uint64_t checked = 0;
  while (written < data.size()) {
    boost::system::error_code ec;
    written += socket.write_some(asio::buffer(data.data() + written, data.size() - written), ec);
    if (ec == asio::error::would_block) {
      stalled = true;
      // While the slow reader is on, the listener has read at most a chunk
      // plus the rate times the time since before the fault was injected.
      const auto bytes = counter("bytes");
      const auto elapsed = Clock::now() - before;
      if (elapsed < kSlow) {
        const double seconds = std::chrono::duration<double>(elapsed).count();
        ASSERT_LE(bytes, kChunk + static_cast<std::uint64_t>(kRate * seconds) + 1) << "after " << seconds << " s";
        ++checked;
      }
      pollfd p{socket.native_handle(), POLLOUT, 0};
      ASSERT_EQ(::poll(&p, 1, 30000), 1) << "the sender stayed blocked for 30 s after " << written << " bytes";
    } else {
      ASSERT_FALSE(ec) << ec.message();
    }
  }
  EXPECT_TRUE(stalled) << "4 MiB went out without the send buffer ever filling";
  ASSERT_TRUE(eventually([&] { return counter("bytes") == data.size(); }, 60)) << counter("bytes");
  // The reads that took all 4 MiB cannot have ended before the slow reader did.
  EXPECT_GE(Clock::now() - before, kSlow);
  ASSERT_TRUE(eventually([&] { return counter("frames") == 4096; })) << counter("frames");
  const auto all = events();
  ASSERT_EQ(all.size(), 4096u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    ASSERT_EQ(all[i]["raw"].get<std::string>() + "\n", data.substr(i * 1024, 1024)) << "line " << i;
  }
  RecordProperty("bound_checks", static_cast<int>(checked));
}

TEST_F(ListenerFaultTest, SlowReaderRateIsPerListenerAndEndsEarlyWithZero) {
  start({"tcp://127.0.0.1:0?name=kuma&codec=raw"});
  constexpr std::uint64_t kRate = 2000;  // reads of 200 bytes, ten a second, for both connections together
  const std::string data(4 * 1024 * 1024, 'y');
  const auto before = Clock::now();
  inject(fault(ListenerFault::Kind::slow_reader, milliseconds(3600 * 1000), kRate));
  tcp::socket a = connect(), b = connect();
  for (auto* socket : {&a, &b}) {
    socket->set_option(asio::socket_base::send_buffer_size(64 * 1024));
    socket->non_blocking(true);
  }
  std::size_t written[2] = {0, 0};
  const auto write_until_blocked = [&](tcp::socket& socket, std::size_t& done) {
    for (;;) {
      boost::system::error_code ec;
      done += socket.write_some(asio::buffer(data.data() + done, data.size() - done), ec);
      if (ec || done == data.size()) return ec;
    }
  };
  EXPECT_EQ(write_until_blocked(a, written[0]), asio::error::would_block);
  EXPECT_EQ(write_until_blocked(b, written[1]), asio::error::would_block);
  // Several reads later, both connections together are still within the rate.
  ASSERT_TRUE(eventually([&] { return counter("bytes") >= 3 * kRate / 10; }));
  const auto bytes = counter("bytes");
  const double seconds = std::chrono::duration<double>(Clock::now() - before).count();
  EXPECT_LE(bytes, kRate / 10 + static_cast<std::uint64_t>(kRate * seconds) + 1) << "after " << seconds << " s";

  inject(fault(ListenerFault::Kind::slow_reader, milliseconds(0)));  // ends it
  for (int i = 0; i < 2; ++i) {
    auto& socket = i == 0 ? a : b;
    while (written[i] < data.size()) {
      const auto ec = write_until_blocked(socket, written[i]);
      if (ec == asio::error::would_block) {
        pollfd p{socket.native_handle(), POLLOUT, 0};
        ASSERT_EQ(::poll(&p, 1, 30000), 1) << "still blocked after the slow reader ended";
      } else {
        ASSERT_FALSE(ec) << ec.message();
      }
    }
  }
  ASSERT_TRUE(eventually([&] { return counter("bytes") == 2 * data.size(); })) << counter("bytes");
}

class TlsFaultTest : public ListenerFaultTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("kumasim-tls-fault-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    pki::Bundle bundle;
    ASSERT_FALSE(pki::create(dir_.string(), {}, false, bundle));
    start({"tls://127.0.0.1:0?name=kuma&codec=raw&cert=" + file("server.pem") + "&key=" + file("server-key.pem")});
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string file(const char* name) const { return (dir_ / name).string(); }

  // Connects, handshakes and writes `text`; the handshake's error.
  boost::system::error_code send_tls(const std::string& text) {
    auto context = tls::make_client_context(file("ca.pem"));
    asio::ssl::stream<tcp::socket> stream(connect(), context);
    tls::set_server_host(stream.native_handle(), "127.0.0.1");
    boost::system::error_code ec;
    stream.handshake(asio::ssl::stream_base::client, ec);
    if (ec) return ec;
    boost::system::error_code ignored;
    asio::write(stream, asio::buffer(text), ignored);
    stream.shutdown(ignored);
    return ec;
  }

  std::filesystem::path dir_;
};

TEST_F(TlsFaultTest, HandshakesFailUntilTheFaultEndsAndAreCounted) {
  inject(fault(ListenerFault::Kind::fail_tls_handshakes, milliseconds(3600 * 1000)));
  const auto ec = send_tls("refused\n");
  ASSERT_TRUE(ec) << "the handshake should have failed";
  EXPECT_NE(ec.message().find("handshake failure"), std::string::npos) << ec.message();  // the alert we sent
  ASSERT_TRUE(eventually([&] { return counter("tls_failures") == 1; }));
  EXPECT_EQ(server_->stats_json()["listeners"]["kuma"]["tls_failure_reasons"]
                ["handshake failed by fault injection (fail_tls_handshakes)"],
            1);
  inject(fault(ListenerFault::Kind::fail_tls_handshakes, milliseconds(0)));  // ends it
  ASSERT_FALSE(send_tls("welcome\n"));
  ASSERT_TRUE(eventually([&] { return counter("frames") == 1; }));
  EXPECT_EQ(events()[0]["raw"], "welcome");
  EXPECT_EQ(counter("tls_failures"), 1u);
}

TEST_F(TlsFaultTest, HandshakesSucceedAgainOnceTheDurationHasPassed) {
  const auto failing = milliseconds(300);
  const auto before = Clock::now();
  inject(fault(ListenerFault::Kind::fail_tls_handshakes, failing));
  const auto ec = send_tls("maybe\n");
  if (Clock::now() - before < failing) {
    EXPECT_TRUE(ec) << "a handshake during the fault succeeded";
  }
  ASSERT_TRUE(eventually([&] { return !send_tls("later\n"); }));
  ASSERT_TRUE(eventually([&] {
    const auto all = events();
    return !all.empty() && all.back()["raw"] == "later";
  }));
}

TEST_F(TlsFaultTest, DropClosesTlsConnectionsWithoutCountingAFailure) {
  auto context = tls::make_client_context(file("ca.pem"));
  asio::ssl::stream<tcp::socket> stream(connect(), context);
  tls::set_server_host(stream.native_handle(), "127.0.0.1");
  boost::system::error_code handshake;
  stream.handshake(asio::ssl::stream_base::client, handshake);
  ASSERT_FALSE(handshake) << handshake.message();
  asio::write(stream, asio::buffer(std::string("one\ntw")));
  ASSERT_TRUE(eventually([&] { return counter("bytes") == 6; }));
  inject(fault(ListenerFault::Kind::drop_connections));
  EXPECT_TRUE(read_end(stream.next_layer()) != asio::error::timed_out);
  ASSERT_TRUE(eventually([&] { return counter("open_connections") == 0 && counter("frames") == 2; }));
  EXPECT_EQ(events()[1]["raw"], "tw");
  EXPECT_EQ(counter("tls_failures"), 0u);
}

// ------------------------------------------------------------- the API bodies

Request post(const std::string& target, const std::string& body) {
  Request r(http::verb::post, target, 11);
  r.body() = body;
  r.prepare_payload();
  return r;
}

TEST(ListenerFaultApi, BodiesForTcpListenersAreAppliedAndBadOnesNameTheField) {
  ServerConfig config;
  config.listeners.push_back(listener("tcp://127.0.0.1:0?name=kuma&codec=raw"));
  config.listeners.push_back(listener("udp://127.0.0.1:0?name=dgram&codec=raw"));
  config.io_threads = 1;
  Server server(std::move(config));
  ControlApi api(server, "");
  const auto expect = [&](const std::string& name, const std::string& body, http::status status,
                          const std::string& text) {
    const Response r = api.handle(post("/api/v1/listeners/" + name + "/faults", body));
    EXPECT_EQ(r.result(), status) << name << " " << body << ": " << r.body();
    EXPECT_NE(r.body().find(text), std::string::npos) << name << " " << body << ": " << r.body();
  };
  expect("kuma", R"({"drop_connections":true})", http::status::ok, R"("applied":{"drop_connections":true})");
  expect("kuma", R"({"refuse_connections_ms":20})", http::status::ok, "refuse_connections_ms");
  expect("kuma", R"({"refuse_connections_ms":0})", http::status::ok, "refuse_connections_ms");
  expect("kuma", R"({"slow_reader":{"bytes_per_second":1024,"ms":20}})", http::status::ok, "slow_reader");
  expect("kuma", R"({"slow_reader":{"ms":0}})", http::status::ok, "slow_reader");
  EXPECT_EQ(server.stats_json()["listeners"]["kuma"]["faults_applied"], 5);

  expect("kuma", R"({"fail_tls_handshakes_ms":100})", http::status::conflict,
         "listener kuma is tcp: fail_tls_handshakes applies to tls listeners");
  expect("dgram", R"({"drop_connections":true})", http::status::conflict,
         "listener dgram is udp: drop_connections applies to tcp and tls listeners");
  expect("dgram", R"({"slow_reader":{"bytes_per_second":1,"ms":1}})", http::status::conflict, "is udp: slow_reader");
  expect("kuma", R"({"broker":1,"down":true})", http::status::conflict,
         "listener kuma is tcp, not a kafka listener: broker faults apply to kafka listeners");
  expect("nope", R"({"drop_connections":true})", http::status::not_found, "no listener nope");

  expect("kuma", R"({"drop_connections":false})", http::status::bad_request, "drop_connections must be true");
  expect("kuma", R"({"refuse_connections_ms":-1})", http::status::bad_request,
         "refuse_connections_ms must be an integer 0-3600000");
  expect("kuma", R"({"refuse_connections_ms":"2s"})", http::status::bad_request, "refuse_connections_ms must be");
  expect("kuma", R"({"fail_tls_handshakes_ms":3600001})", http::status::bad_request, "fail_tls_handshakes_ms must be");
  expect("kuma", R"({"slow_reader":1024})", http::status::bad_request, "slow_reader must be an object");
  expect("kuma", R"({"slow_reader":{"bytes_per_second":1024}})", http::status::bad_request, "slow_reader.ms is required");
  expect("kuma", R"({"slow_reader":{"ms":100}})", http::status::bad_request, "slow_reader.bytes_per_second is required");
  expect("kuma", R"({"slow_reader":{"bytes_per_second":0,"ms":100}})", http::status::bad_request,
         "slow_reader.bytes_per_second must be an integer");
  expect("kuma", R"({"slow_reader":{"bytes_per_second":1,"ms":1,"burst":5}})", http::status::bad_request,
         "slow_reader.burst is not a field");
  expect("kuma", R"({"drop_connections":true,"refuse_connections_ms":5})", http::status::bad_request,
         "one listener fault per request");
  expect("kuma", R"({"drop_connections":true,"broker":1})", http::status::bad_request, "cannot be combined with broker");
  expect("kuma", R"({"colour":"red"})", http::status::bad_request, "colour is not a field");
  expect("kuma", R"({})", http::status::bad_request, "nothing to do");
  expect("kuma", R"([1])", http::status::bad_request, "must be a JSON object");
  EXPECT_EQ(server.stats_json()["listeners"]["kuma"]["faults_applied"], 5);
  EXPECT_EQ(server.stats_json()["listeners"]["dgram"]["faults_applied"], 0);
}

TEST(ListenerFaultApi, ListenerFaultsDoNotApplyToKafkaListeners) {
  ServerConfig config;
  config.listeners.push_back(listener("kafka://?name=k&topic=logs&codec=json"));
  config.io_threads = 1;
  Server server(std::move(config));
  const auto result = server.inject_listener_fault("k", fault(ListenerFault::Kind::refuse_connections, milliseconds(10)));
  EXPECT_EQ(result.kind, Server::FaultResult::Kind::not_applicable);
  EXPECT_EQ(result.message, "listener k is kafka: refuse_connections applies to tcp and tls listeners");
  ControlApi api(server, "");
  const Response r = api.handle(post("/api/v1/listeners/k/faults", R"({"drop_connections":true})"));
  EXPECT_EQ(r.result(), http::status::conflict) << r.body();
}

}  // namespace
}  // namespace kumasim::sim
