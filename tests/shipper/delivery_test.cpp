// Delivery over plain TCP, UDP and stdout, with the buffer's Block and
// DropNewest behaviour, reconnection, and no loss when the receiver goes away
// (dkp-log-shipper.md §9, §11.1, §11.2). Receivers are real loopback sockets
// on ephemeral ports.
#include "shipper/delivery/delivery.h"

#include "support/eventually.h"
#include "tests/shipper/delivery_support.h"
#include "support/receivers.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

namespace kumasim::shipper {
namespace {

using testing::eventually;
using testing::Logs;
using testing::message;
using testing::numbered;
using testing::numbered_range;
using testing::socket_destination;
using testing::TcpReceiver;
using testing::UdpReceiver;

std::unique_ptr<Delivery> start(const Destination& destination, Logs& logs, std::string data_dir = {}) {
  DeliveryOptions options;
  options.data_dir = std::move(data_dir);
  options.log = logs.sink();
  return Delivery::start(destination, std::move(options));
}

void push_range(Delivery& delivery, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) ASSERT_TRUE(delivery.push(message(numbered(i), i)));
}

TEST(TcpDelivery, DeliversEveryMessageInOrderEachFollowedByLf) {
  TcpReceiver receiver({});
  Logs logs;
  auto delivery = start(socket_destination("127.0.0.1", receiver.port()), logs);
  constexpr std::size_t kCount = 5000;
  push_range(*delivery, 0, kCount);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(10)));
  EXPECT_TRUE(eventually([&] { return receiver.messages().size() == kCount; }));
  EXPECT_EQ(receiver.messages(), numbered_range(0, kCount));
  EXPECT_EQ(receiver.data().back(), '\n');
  EXPECT_EQ(receiver.data().find("\n\n"), std::string::npos);
  EXPECT_EQ(delivery->counters().sent, kCount);
  EXPECT_EQ(delivery->counters().sent_bytes, receiver.data().size());
  EXPECT_EQ(delivery->counters().queued, kCount);
  EXPECT_EQ(delivery->counters().connects, 1u);
  EXPECT_EQ(delivery->done_below(), kCount);
  EXPECT_EQ(logs.count("connected to " + receiver.address()), 1u) << logs.joined();
}

TEST(TcpDelivery, GelfMessagesAreTerminatedByNul) {
  TcpReceiver receiver({.terminator = '\0'});
  Logs logs;
  auto destination = socket_destination("127.0.0.1", receiver.port());
  destination.codec = Codec::gelf;
  auto delivery = start(destination, logs);
  ASSERT_TRUE(delivery->push(message("{\"short_message\":\"a\"}", 1)));
  ASSERT_TRUE(delivery->push(message("{\"short_message\":\"b\"}", 2)));
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(10)));
  EXPECT_TRUE(eventually([&] { return receiver.data().size() == 44; }));
  EXPECT_EQ(receiver.data(), std::string("{\"short_message\":\"a\"}\0{\"short_message\":\"b\"}\0", 44));
}

TEST(TcpDelivery, EmptyPayloadIsALoneLf) {
  TcpReceiver receiver({});
  Logs logs;
  auto delivery = start(socket_destination("127.0.0.1", receiver.port()), logs);
  ASSERT_TRUE(delivery->push(message("", 7)));
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(10)));
  EXPECT_TRUE(eventually([&] { return receiver.data() == "\n"; }));
  EXPECT_EQ(delivery->done_below(), 8u);
}

// The receiver's socket is bound but not listening, so connections are
// refused; it listens later and everything still arrives, once.
TEST(TcpDelivery, RetriesWithBackoffUntilTheReceiverListens) {
  TcpReceiver receiver({.listening = false});
  Logs logs;
  auto delivery = start(socket_destination("127.0.0.1", receiver.port()), logs);
  push_range(*delivery, 0, 50);
  ASSERT_TRUE(eventually([&] { return delivery->counters().connect_failures >= 3; }));
  EXPECT_EQ(delivery->counters().connects, 0u);
  EXPECT_EQ(delivery->done_below(), 0u);
  EXPECT_FALSE(delivery->drain(std::chrono::milliseconds(1)));
  // Logged once per state change, not once per retry.
  EXPECT_EQ(logs.count("destination \"siem\": cannot connect to " + receiver.address() + ": Connection refused"), 1u)
      << logs.joined();

  receiver.listen();
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15)));
  EXPECT_TRUE(eventually([&] { return receiver.messages().size() == 50; }));
  EXPECT_EQ(receiver.messages(), numbered_range(0, 50));
  EXPECT_EQ(delivery->counters().connects, 1u);
  EXPECT_EQ(delivery->done_below(), 50u);
  EXPECT_EQ(logs.count("connected to " + receiver.address()), 1u) << logs.joined();
}

// The receiver reads K1 messages and closes the connection, and its listener
// goes away; a new one comes up on the same port and K2 more are pushed.
// DKP may lose messages here (§11.1); this shipper must not.
TEST(TcpDelivery, ReceiverRestartedMidStreamLosesNothing) {
  constexpr std::size_t kFirst = 700, kSecond = 900;
  Logs logs;
  std::uint16_t port = 0;
  std::vector<std::string> received;
  std::unique_ptr<Delivery> delivery;
  {
    TcpReceiver first({.close_after = kFirst});
    port = first.port();
    delivery = start(socket_destination("127.0.0.1", port), logs);
    push_range(*delivery, 0, kFirst);
    ASSERT_TRUE(eventually([&] { return first.closed_by_us() == 1; }));
    received = first.messages();
  }
  TcpReceiver second({.port = port});
  push_range(*delivery, kFirst, kFirst + kSecond);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15))) << logs.joined();
  ASSERT_TRUE(eventually([&] { return second.messages().size() >= kSecond; }));
  for (auto& m : second.messages()) received.push_back(m);

  const auto arrival = testing::compare(received, numbered_range(0, kFirst + kSecond));
  EXPECT_TRUE(arrival.complete_in_order) << logs.joined();
  RecordProperty("duplicates", static_cast<int>(arrival.duplicates));
  EXPECT_EQ(arrival.duplicates, 0u);
  EXPECT_EQ(delivery->counters().sent, kFirst + kSecond);
  EXPECT_EQ(delivery->done_below(), kFirst + kSecond);
  EXPECT_GE(logs.count("lost: closed by the peer"), 1u) << logs.joined();
}

// A receiver that half-closes (FIN) while messages keep streaming in, and
// reads on: messages written after its FIN reach it, the rest are sent again
// on the next connection. None may be missing; duplicates are reported.
TEST(TcpDelivery, PeerClosingWhileMessagesStreamLosesNothing) {
  constexpr std::size_t kCount = 30000;
  TcpReceiver receiver({.half_close_after = 5000});
  Logs logs;
  auto delivery = start(socket_destination("127.0.0.1", receiver.port()), logs);
  push_range(*delivery, 0, kCount);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(30))) << logs.joined();
  const auto expected = numbered_range(0, kCount);
  ASSERT_TRUE(eventually([&] { return testing::compare(receiver.messages(), expected).complete_in_order; }))
      << logs.joined();
  const auto arrival = testing::compare(receiver.messages(), expected);
  RecordProperty("duplicates", static_cast<int>(arrival.duplicates));
  RecordProperty("connections", receiver.connections());
  EXPECT_GE(receiver.connections(), 2);
  EXPECT_EQ(delivery->counters().sent, kCount);
}

TEST(TcpDelivery, StopIsPromptWhileThePeerIsDown) {
  TcpReceiver receiver({.listening = false});
  Logs logs;
  auto delivery = start(socket_destination("127.0.0.1", receiver.port()), logs);
  push_range(*delivery, 0, 10);
  ASSERT_TRUE(eventually([&] { return delivery->counters().connect_failures >= 4; }));  // back-off ≥ 800 ms now
  const auto before = std::chrono::steady_clock::now();
  delivery->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(500));
  EXPECT_FALSE(delivery->push(message("late", 10)));
}

// A peer that accepts and never reads: the writes stall on a full socket,
// and stop() must still return.
TEST(TcpDelivery, StopIsPromptWhileAWriteStalls) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(listener, 4), 0);
  socklen_t size = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
  Logs logs;
  auto destination = socket_destination("127.0.0.1", ntohs(address.sin_port));
  destination.buffer.max_events = 100000;
  auto delivery = start(destination, logs);
  const std::string big(4096, 'x');
  for (std::size_t i = 0; i < 20000; ++i) ASSERT_TRUE(delivery->push(message(big, i)));  // 80 MB: more than any socket buffer
  ASSERT_TRUE(eventually([&] { return delivery->counters().connects == 1; }));
  EXPECT_FALSE(delivery->drain(std::chrono::milliseconds(200)));
  const auto before = std::chrono::steady_clock::now();
  delivery->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::milliseconds(500));
  ::close(listener);
}

TEST(Buffer, DropNewestDropsAndCountsExactlyWhatDoesNotFit) {
  TcpReceiver receiver({.listening = false});
  Logs logs;
  auto destination = socket_destination("127.0.0.1", receiver.port());
  destination.buffer.max_events = 5;
  destination.buffer.when_full = BufferSpec::WhenFull::drop_newest;
  auto delivery = start(destination, logs);
  for (std::size_t i = 0; i < 12; ++i) EXPECT_TRUE(delivery->push(message(numbered(i), i)));
  EXPECT_EQ(delivery->counters().queued, 5u);
  EXPECT_EQ(delivery->counters().dropped_buffer_full, 7u);
  EXPECT_EQ(delivery->counters().blocked_pushes, 0u);
  EXPECT_EQ(delivery->done_below(), 0u);  // 0..4 wait; 5..11 are done (dropped)

  receiver.listen();
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15)));
  EXPECT_TRUE(eventually([&] { return receiver.messages().size() == 5; }));
  EXPECT_EQ(receiver.messages(), numbered_range(0, 5));
  EXPECT_EQ(delivery->done_below(), 12u);
}

TEST(Buffer, BlockMakesPushWaitAndStopReleasesIt) {
  TcpReceiver receiver({.listening = false});
  Logs logs;
  auto destination = socket_destination("127.0.0.1", receiver.port());
  destination.buffer.max_events = 2;
  auto delivery = start(destination, logs);
  ASSERT_TRUE(delivery->push(message("a", 0)));
  ASSERT_TRUE(delivery->push(message("b", 1)));
  auto third = std::async(std::launch::async, [&] { return delivery->push(message("c", 2)); });
  ASSERT_TRUE(eventually([&] { return delivery->counters().blocked_pushes == 1; }));
  EXPECT_EQ(third.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  delivery->stop();
  EXPECT_FALSE(third.get());
  EXPECT_EQ(delivery->counters().queued, 2u);
  EXPECT_EQ(delivery->counters().dropped_buffer_full, 0u);
}

TEST(Buffer, BlockedPushesResumeWhenTheReceiverComes) {
  TcpReceiver receiver({.listening = false});
  Logs logs;
  auto destination = socket_destination("127.0.0.1", receiver.port());
  destination.buffer.max_events = 3;
  auto delivery = start(destination, logs);
  auto pusher = std::async(std::launch::async, [&] {
    for (std::size_t i = 0; i < 40; ++i)
      if (!delivery->push(message(numbered(i), i))) return false;
    return true;
  });
  ASSERT_TRUE(eventually([&] { return delivery->counters().blocked_pushes >= 1; }));
  receiver.listen();
  EXPECT_TRUE(pusher.get());
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15)));
  EXPECT_TRUE(eventually([&] { return receiver.messages().size() == 40; }));
  EXPECT_EQ(receiver.messages(), numbered_range(0, 40));
}

class DiskBuffer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kumasim-delivery-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Destination disk_destination(std::uint16_t port) const {
    auto destination = socket_destination("127.0.0.1", port);
    destination.buffer.type = BufferSpec::Type::disk;
    destination.buffer.max_size = 256 * 1024 * 1024;
    return destination;
  }
  std::filesystem::path dir_;
};

TEST_F(DiskBuffer, MessagesPushedWhileTheReceiverIsDownSurviveARestart) {
  TcpReceiver down({.listening = false});
  Logs logs;
  const auto destination = disk_destination(down.port());
  {
    auto delivery = start(destination, logs, dir_.string());
    push_range(*delivery, 0, 300);
    EXPECT_EQ(delivery->done_below(), 300u);  // stored on disk is done for the file checkpoints
    delivery->stop();
  }
  EXPECT_TRUE(std::filesystem::exists(dir_ / "buffer" / "siem"));

  down.listen();
  auto delivery = start(destination, logs, dir_.string());
  push_range(*delivery, 300, 350);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15))) << logs.joined();
  EXPECT_TRUE(eventually([&] { return down.messages().size() == 350; }));
  EXPECT_EQ(down.messages(), numbered_range(0, 350));
  delivery->stop();

  // Everything was acknowledged, so a third run has nothing left to send.
  auto third = start(destination, logs, dir_.string());
  EXPECT_TRUE(third->drain(std::chrono::seconds(5)));
  EXPECT_EQ(third->counters().sent, 0u);
}

TEST_F(DiskBuffer, ASecondDeliveryOnTheSameDirectoryIsRefused) {
  TcpReceiver down({.listening = false});
  Logs logs;
  const auto destination = disk_destination(down.port());
  auto first = start(destination, logs, dir_.string());
  try {
    start(destination, logs, dir_.string());
    FAIL() << "a second delivery opened the same disk buffer";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("destination \"siem\": the disk buffer"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
  }
}

TEST_F(DiskBuffer, MaxSizeBoundsWhatWaits) {
  TcpReceiver down({.listening = false});
  Logs logs;
  auto destination = disk_destination(down.port());
  destination.buffer.max_size = 10 * 1024;
  destination.buffer.when_full = BufferSpec::WhenFull::drop_newest;
  auto delivery = start(destination, logs, dir_.string());
  const std::string kilobyte(1000, 'k');
  for (std::size_t i = 0; i < 20; ++i) EXPECT_TRUE(delivery->push(message(kilobyte, i)));
  // 1012 bytes a record (12 of header): 10 fit in 10 KiB.
  EXPECT_EQ(delivery->counters().queued, 10u);
  EXPECT_EQ(delivery->counters().dropped_buffer_full, 10u);
  down.listen();
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15)));
  // drained means acknowledged by the peer's TCP, not yet read by the receiver thread
  EXPECT_TRUE(eventually([&] { return down.messages().size() == 10; }));
  EXPECT_EQ(down.messages().size(), 10u);
}

TEST(UdpDelivery, OneDatagramPerMessageWithoutLf) {
  UdpReceiver receiver;
  Logs logs;
  auto delivery = start(socket_destination("127.0.0.1", receiver.port(), SocketSpec::Mode::udp), logs);
  push_range(*delivery, 0, 200);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(10)));
  EXPECT_TRUE(eventually([&] { return receiver.datagrams().size() == 200; }));
  EXPECT_EQ(receiver.datagrams(), numbered_range(0, 200));
  EXPECT_EQ(delivery->counters().sent, 200u);
  EXPECT_EQ(delivery->done_below(), 200u);
}

TEST(UdpDelivery, OversizedDatagramIsDroppedAndCountedAndTheNextOneGoes) {
  UdpReceiver receiver;
  Logs logs;
  auto delivery = start(socket_destination("127.0.0.1", receiver.port(), SocketSpec::Mode::udp), logs);
  ASSERT_TRUE(delivery->push(message(std::string(65507, 'x'), 0)));  // the IPv4 limit: fits
  ASSERT_TRUE(delivery->push(message(std::string(65508, 'y'), 1)));
  ASSERT_TRUE(delivery->push(message("after", 2)));
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(10)));
  EXPECT_TRUE(eventually([&] { return receiver.datagrams().size() == 2; }));
  EXPECT_EQ(receiver.datagrams().at(0).size(), 65507u);
  EXPECT_EQ(receiver.datagrams().at(1), "after");
  EXPECT_EQ(delivery->counters().dropped_send, 1u);
  EXPECT_EQ(delivery->counters().sent, 2u);
  EXPECT_EQ(delivery->counters().connects, 2u);  // the socket was re-created
  EXPECT_EQ(delivery->done_below(), 3u);
  EXPECT_EQ(logs.count("a datagram to 127.0.0.1:" + std::to_string(receiver.port()) + " was dropped: Message too long"), 1u)
      << logs.joined();
}

// Nothing listens on the port: the ICMP port-unreachable makes a later send
// fail with ECONNREFUSED, and that message is dropped and counted.
TEST(UdpDelivery, RefusedDatagramsAreDroppedAndCounted) {
  std::uint16_t port;
  {
    UdpReceiver gone;
    port = gone.port();
  }
  Logs logs;
  auto delivery = start(socket_destination("127.0.0.1", port, SocketSpec::Mode::udp), logs);
  std::size_t pushed = 0;
  ASSERT_TRUE(eventually([&] {
    delivery->push(message("probe", pushed++));
    return delivery->counters().dropped_send >= 1;
  }));
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(10)));
  EXPECT_EQ(delivery->counters().sent + delivery->counters().dropped_send, pushed);
  EXPECT_EQ(delivery->done_below(), pushed);
  EXPECT_GE(logs.count("was dropped: Connection refused"), 1u) << logs.joined();
}

class StdoutDelivery : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_EQ(::pipe2(pipe_, O_CLOEXEC), 0); }
  void TearDown() override {
    ::close(pipe_[0]);
    ::close(pipe_[1]);
  }
  std::string run(const Destination& destination, const std::vector<std::string>& payloads) {
    DeliveryOptions options;
    options.to_stdout = true;
    options.stdout_fd = pipe_[1];
    auto delivery = Delivery::start(destination, std::move(options));
    for (std::size_t i = 0; i < payloads.size(); ++i) EXPECT_TRUE(delivery->push(message(payloads[i], i)));
    EXPECT_TRUE(delivery->drain(std::chrono::seconds(10)));
    delivery->stop();
    ::fcntl(pipe_[0], F_SETFL, O_NONBLOCK);
    std::string out(4096, '\0');
    const ssize_t n = ::read(pipe_[0], out.data(), out.size());
    out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return out;
  }
  int pipe_[2] = {-1, -1};
};

TEST_F(StdoutDelivery, TcpWritesTheWireBytes) {
  EXPECT_EQ(run(socket_destination("127.0.0.1", 9), {"a", "b"}), "a\nb\n");
}

TEST_F(StdoutDelivery, GelfOverTcpKeepsNul) {
  auto destination = socket_destination("127.0.0.1", 9);
  destination.codec = Codec::gelf;
  EXPECT_EQ(run(destination, {"a", "b"}), std::string("a\0b\0", 4));
}

TEST_F(StdoutDelivery, UdpDatagramsAreEachFollowedByLf) {
  auto destination = socket_destination("127.0.0.1", 9, SocketSpec::Mode::udp);
  destination.codec = Codec::gelf;
  EXPECT_EQ(run(destination, {"a", "b"}), "a\nb\n");
}

TEST_F(StdoutDelivery, KafkaValuesAreEachFollowedByLf) {
  Destination destination;
  destination.name = "kafka";
  KafkaSpec kafka;
  kafka.bootstrap_servers = {"127.0.0.1:9"};
  destination.transport = kafka;
  EXPECT_EQ(run(destination, {"{}", "{\"a\":1}"}), "{}\n{\"a\":1}\n");
}

}  // namespace
}  // namespace kumasim::shipper
