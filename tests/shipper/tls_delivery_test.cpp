// TLS Socket destinations (dkp-log-shipper.md §3.3, §3.4, §11.1): the server
// chain and host name are always verified, a client certificate is presented
// with its key decrypted by keyPass, and a failed handshake is logged clearly
// and retried without delivering anything.
#include "shipper/delivery/delivery.h"

#include "simulator/pki.h"
#include "support/eventually.h"
#include "tests/shipper/delivery_support.h"
#include "support/receivers.h"

#include <gtest/gtest.h>

namespace kumasim::shipper {
namespace {

using testing::eventually;
using testing::Logs;
using testing::message;
using testing::numbered;
using testing::numbered_range;
using testing::TcpReceiver;

class TlsDelivery : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(pki::generate({}, bundle_).has_value());
    ASSERT_FALSE(pki::generate({}, other_).has_value());
  }
  Destination tls_destination(const std::string& host, std::uint16_t port, const std::string& ca_pem) const {
    auto destination = testing::socket_destination(host, port);
    destination.tls.enabled = true;
    destination.tls.ca_pem = ca_pem;
    return destination;
  }
  std::unique_ptr<Delivery> start(const Destination& destination) {
    DeliveryOptions options;
    options.log = logs_.sink();
    return Delivery::start(destination, std::move(options));
  }
  void push_range(Delivery& delivery, std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) ASSERT_TRUE(delivery.push(message(numbered(i), i)));
  }

  pki::Bundle bundle_, other_;
  Logs logs_;
};

TEST_F(TlsDelivery, VerifiedServerReceivesEverything) {
  auto server = testing::server_tls(bundle_);
  TcpReceiver receiver({.tls = server.get()});
  auto delivery = start(tls_destination("127.0.0.1", receiver.port(), bundle_.ca.cert_pem));
  push_range(*delivery, 0, 3000);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15))) << logs_.joined();
  EXPECT_TRUE(eventually([&] { return receiver.messages().size() == 3000; }));
  EXPECT_EQ(receiver.messages(), numbered_range(0, 3000));
  EXPECT_EQ(delivery->counters().sent, 3000u);
  EXPECT_EQ(delivery->done_below(), 3000u);
  EXPECT_EQ(logs_.count("connected to " + receiver.address() + " (TLSv1.3)"), 1u) << logs_.joined();
}

TEST_F(TlsDelivery, ServerNameIsVerifiedAndSentAsSni) {
  auto server = testing::server_tls(bundle_);
  TcpReceiver receiver({.tls = server.get()});
  auto delivery = start(tls_destination("localhost", receiver.port(), bundle_.ca.cert_pem));
  push_range(*delivery, 0, 10);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15))) << logs_.joined();
  EXPECT_TRUE(eventually([&] { return receiver.messages().size() == 10; }));
  EXPECT_EQ(receiver.server_name(), "localhost");
}

// RFC 6066 allows no IP literal in SNI.
TEST_F(TlsDelivery, NoSniForAnIpAddress) {
  auto server = testing::server_tls(bundle_);
  TcpReceiver receiver({.tls = server.get()});
  auto delivery = start(tls_destination("127.0.0.1", receiver.port(), bundle_.ca.cert_pem));
  push_range(*delivery, 0, 1);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15))) << logs_.joined();
  EXPECT_EQ(receiver.server_name(), "");
}

TEST_F(TlsDelivery, TlsOneTwoServerWorksToo) {
  auto server = testing::server_tls(bundle_);
  SSL_CTX_set_max_proto_version(server.get(), TLS1_2_VERSION);
  TcpReceiver receiver({.tls = server.get()});
  auto delivery = start(tls_destination("127.0.0.1", receiver.port(), bundle_.ca.cert_pem));
  push_range(*delivery, 0, 10);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15))) << logs_.joined();
  EXPECT_TRUE(eventually([&] { return receiver.messages().size() == 10; }));
  EXPECT_EQ(logs_.count("(TLSv1.2)"), 1u) << logs_.joined();
}

TEST_F(TlsDelivery, UnknownCaFailsClearlyRetriesAndDeliversNothing) {
  auto server = testing::server_tls(bundle_);
  TcpReceiver receiver({.tls = server.get()});
  auto delivery = start(tls_destination("127.0.0.1", receiver.port(), other_.ca.cert_pem));
  push_range(*delivery, 0, 10);
  ASSERT_TRUE(eventually([&] { return delivery->counters().connect_failures >= 3; }));
  EXPECT_EQ(logs_.count("destination \"siem\": tls handshake with " + receiver.address() +
                        " failed: certificate verify failed"),
            1u)
      << logs_.joined();
  EXPECT_EQ(delivery->counters().connects, 0u);
  EXPECT_EQ(delivery->counters().sent, 0u);
  EXPECT_EQ(delivery->done_below(), 0u);
  EXPECT_TRUE(receiver.data().empty());
}

// The certificate names 127.0.0.1, ::1 and localhost; 127.0.0.2 is none of them.
TEST_F(TlsDelivery, AddressNotInTheCertificateFails) {
  auto server = testing::server_tls(bundle_);
  TcpReceiver receiver({.host = "127.0.0.2", .tls = server.get()});
  auto delivery = start(tls_destination("127.0.0.2", receiver.port(), bundle_.ca.cert_pem));
  push_range(*delivery, 0, 10);
  ASSERT_TRUE(eventually([&] { return delivery->counters().connect_failures >= 2; }));
  EXPECT_EQ(logs_.count("tls handshake with 127.0.0.2:" + std::to_string(receiver.port()) +
                        " failed: certificate verify failed: IP address mismatch"),
            1u)
      << logs_.joined();
  EXPECT_TRUE(receiver.data().empty());
}

// The verify flags are ignored for Socket destinations (§3.4): a mismatch
// fails even when both say false.
TEST_F(TlsDelivery, VerifyFlagsDoNotSwitchVerificationOff) {
  auto server = testing::server_tls(bundle_);
  TcpReceiver receiver({.host = "127.0.0.2", .tls = server.get()});
  auto destination = tls_destination("127.0.0.2", receiver.port(), bundle_.ca.cert_pem);
  destination.tls.verify_certificate = false;
  destination.tls.verify_hostname = false;
  auto delivery = start(destination);
  push_range(*delivery, 0, 1);
  ASSERT_TRUE(eventually([&] { return delivery->counters().connect_failures >= 1; }));
  EXPECT_EQ(logs_.count("IP address mismatch"), 1u) << logs_.joined();
}

TEST_F(TlsDelivery, ClientCertificateWithEncryptedKey) {
  auto server = testing::server_tls(bundle_, bundle_.ca.cert_pem);
  TcpReceiver receiver({.tls = server.get()});
  auto destination = tls_destination("127.0.0.1", receiver.port(), bundle_.ca.cert_pem);
  destination.tls.crt_pem = bundle_.client.cert_pem;
  destination.tls.key_pem = testing::encrypted_key(bundle_.client.key_pem, "s3cret pass");
  destination.tls.key_pass = "s3cret pass";
  ASSERT_NE(destination.tls.key_pem.find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);
  auto delivery = start(destination);
  push_range(*delivery, 0, 100);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15))) << logs_.joined();
  EXPECT_TRUE(eventually([&] { return receiver.messages().size() == 100; }));
  EXPECT_EQ(receiver.messages(), numbered_range(0, 100));
}

// TLS 1.3 servers reject a missing client certificate only after the client
// has finished its handshake; the messages must not be taken as delivered.
TEST_F(TlsDelivery, ServerRejectingTheClientDeliversNothingAndCountsNothing) {
  auto server = testing::server_tls(bundle_, bundle_.ca.cert_pem);
  TcpReceiver receiver({.tls = server.get()});
  auto delivery = start(tls_destination("127.0.0.1", receiver.port(), bundle_.ca.cert_pem));
  push_range(*delivery, 0, 10);
  ASSERT_TRUE(eventually([&] { return delivery->counters().connect_failures >= 2; })) << logs_.joined();
  EXPECT_EQ(logs_.count("tls handshake with " + receiver.address() + " failed: tlsv13 alert certificate required"), 1u)
      << logs_.joined();
  EXPECT_EQ(delivery->counters().sent, 0u);
  EXPECT_EQ(delivery->done_below(), 0u);
  EXPECT_TRUE(receiver.data().empty());
}

TEST_F(TlsDelivery, WrongKeyPassIsRefusedAtStart) {
  auto destination = tls_destination("127.0.0.1", 6514, bundle_.ca.cert_pem);
  destination.tls.crt_pem = bundle_.client.cert_pem;
  destination.tls.key_pem = testing::encrypted_key(bundle_.client.key_pem, "right");
  destination.tls.key_pass = "wrong";
  try {
    start(destination);
    FAIL() << "started with a wrong keyPass";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("destination \"siem\": TLS client key (keyFile): "), std::string::npos)
        << e.what();
  }
}

TEST_F(TlsDelivery, CaWithoutCertificateIsRefusedAtStart) {
  try {
    start(tls_destination("127.0.0.1", 6514, "not a certificate"));
    FAIL() << "started with a bad CA";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("destination \"siem\": TLS CA (caFile): no certificate in it"),
              std::string::npos)
        << e.what();
  }
}

// A receiver restarted mid-stream loses nothing over TLS either.
TEST_F(TlsDelivery, ReceiverRestartLosesNothing) {
  auto server = testing::server_tls(bundle_);
  constexpr std::size_t kFirst = 400, kSecond = 600;
  std::vector<std::string> received;
  std::uint16_t port = 0;
  std::unique_ptr<Delivery> delivery;
  {
    TcpReceiver first({.tls = server.get(), .close_after = kFirst});
    port = first.port();
    delivery = start(tls_destination("127.0.0.1", port, bundle_.ca.cert_pem));
    push_range(*delivery, 0, kFirst);
    ASSERT_TRUE(eventually([&] { return first.closed_by_us() == 1; }));
    received = first.messages();
  }
  TcpReceiver second({.port = port, .tls = server.get()});
  push_range(*delivery, kFirst, kFirst + kSecond);
  ASSERT_TRUE(delivery->drain(std::chrono::seconds(15))) << logs_.joined();
  ASSERT_TRUE(eventually([&] { return second.messages().size() >= kSecond; }));
  for (auto& m : second.messages()) received.push_back(m);
  const auto arrival = testing::compare(received, numbered_range(0, kFirst + kSecond));
  EXPECT_TRUE(arrival.complete_in_order) << logs_.joined();
  RecordProperty("duplicates", static_cast<int>(arrival.duplicates));
}

}  // namespace
}  // namespace kumasim::shipper
