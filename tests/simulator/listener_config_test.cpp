#include "simulator/listener_config.h"

#include <gtest/gtest.h>

namespace kumasim::sim {
namespace {

ListenerConfig parsed(std::string_view url) {
  auto result = parse_listener_url(url, 1);
  if (auto* error = std::get_if<std::string>(&result)) ADD_FAILURE() << url << ": " << *error;
  return std::get<ListenerConfig>(result);
}

std::string error_of(std::string_view url) {
  auto result = parse_listener_url(url, 1);
  if (std::holds_alternative<ListenerConfig>(result)) ADD_FAILURE() << url << " was accepted";
  return std::get_if<std::string>(&result) ? std::get<std::string>(result) : "";
}

TEST(ListenerUrl, KumaDefaults) {
  const auto tcp = parsed("tcp://127.0.0.1:5140");
  EXPECT_EQ(tcp.name, "tcp-1");
  EXPECT_EQ(tcp.port, 5140);
  EXPECT_EQ(tcp.codec, formats::Codec::automatic);
  EXPECT_EQ(tcp.framing, formats::FramingMode::delimiter);
  EXPECT_EQ(tcp.delimiter, '\n');
  EXPECT_EQ(tcp.buffer_size(), 1024u * 1024);  // §2.1: 1 MB
  const auto udp = parsed("udp://:0");
  EXPECT_EQ(udp.host, "127.0.0.1");
  EXPECT_FALSE(udp.udp_delimited);               // §2.2: one datagram, one event
  EXPECT_EQ(udp.buffer_size(), 16u * 1024);      // §2.2: 16 KB
}

TEST(ListenerUrl, EveryKey) {
  const auto c = parsed("tcp://[::1]:0?name=kuma&codec=syslog-cef&delimiter=nul&framing=rfc6587&buffer=2048");
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.name, "kuma");
  EXPECT_EQ(c.codec, formats::Codec::syslog_cef);
  EXPECT_EQ(c.delimiter, '\0');
  EXPECT_EQ(c.framing, formats::FramingMode::octet);
  EXPECT_EQ(c.buffer_size(), 2048u);
  const auto t = parsed("tls://127.0.0.1:0?mode=verify&cert=s.pem&key=k.pem&ca=ca.pem");
  EXPECT_EQ(t.tls.mode, tls::TlsMode::verify);
  EXPECT_EQ(t.tls.ca_file, "ca.pem");
  EXPECT_TRUE(parsed("udp://127.0.0.1:0?delimiter=lf").udp_delimited);
}

TEST(ListenerUrl, ErrorsNameTheKeyAndTheRule) {
  EXPECT_NE(error_of("sctp://1.2.3.4:5").find("unknown transport \"sctp\""), std::string::npos);
  EXPECT_NE(error_of("tcp://127.0.0.1").find("no :PORT"), std::string::npos);
  EXPECT_NE(error_of("tcp://127.0.0.1:70000").find("port \"70000\""), std::string::npos);
  EXPECT_NE(error_of("tcp://127.0.0.1:0?codec=xml").find("codec \"xml\""), std::string::npos);
  EXPECT_NE(error_of("tcp://127.0.0.1:0?delimiter=crlf").find("delimiter \"crlf\""), std::string::npos);
  EXPECT_NE(error_of("tcp://127.0.0.1:0?colour=red").find("unknown key \"colour\""), std::string::npos);
  EXPECT_NE(error_of("tcp://127.0.0.1:0?codec").find("not KEY=VALUE"), std::string::npos);
  EXPECT_NE(error_of("tcp://127.0.0.1:0?buffer=67108865").find("over KUMA's maximum 67108864"), std::string::npos);
  EXPECT_NE(error_of("udp://127.0.0.1:0?buffer=65537").find("over KUMA's maximum 65536"), std::string::npos);
  EXPECT_NE(error_of("udp://127.0.0.1:0?framing=rfc6587").find("tcp and tls only"), std::string::npos);
  EXPECT_NE(error_of("tls://127.0.0.1:0").find("needs cert and key"), std::string::npos);
  EXPECT_NE(error_of("tls://127.0.0.1:0?cert=a&key=b&mode=verify").find("needs ca"), std::string::npos);
  EXPECT_NE(error_of("nonsense").find("TRANSPORT://HOST:PORT"), std::string::npos);
}

}  // namespace
}  // namespace kumasim::sim

namespace kumasim::sim {
namespace {

TEST(ListenerUrl, KafkaExternalClusterKeys) {
  const auto c = parsed(
      "kafka://?embedded=false&bootstrap=kafka-1:9093,kafka-2:9093&topic=logs&group=kuma&sasl=scram-sha-512"
      "&username=kuma&password=p%26ss&tls=verify&ca=ca.pem&cert=c.pem&key=k.pem");
  EXPECT_FALSE(c.embedded);
  EXPECT_EQ(c.bootstrap, "kafka-1:9093,kafka-2:9093");
  EXPECT_EQ(c.sasl, KafkaSasl::scram_sha_512);
  EXPECT_EQ(sasl_mechanism(c.sasl), "SCRAM-SHA-512");
  EXPECT_EQ(c.username, "kuma");
  EXPECT_EQ(c.password, "p&ss");  // %XX escapes, for the URL's separators
  EXPECT_EQ(c.kafka_tls, KafkaTls::verify);
  EXPECT_EQ(c.tls.ca_file, "ca.pem");
  EXPECT_EQ(parsed("kafka://?embedded=false&bootstrap=h:1&tls=on").kafka_tls, KafkaTls::on);
  EXPECT_EQ(parsed("kafka://?embedded=false&bootstrap=h:1&sasl=plain&username=u&password=p").sasl, KafkaSasl::plain);
}

TEST(ListenerUrl, KafkaExternalClusterErrorsNameTheKey) {
  const std::string external = "kafka://?embedded=false&bootstrap=h:9092";
  EXPECT_NE(error_of(external + "&sasl=gssapi&username=u&password=p").find("sasl \"gssapi\" is not off, plain"),
            std::string::npos);
  EXPECT_NE(error_of(external + "&tls=maybe").find("tls \"maybe\" is not off, on or verify"), std::string::npos);
  EXPECT_NE(error_of("kafka://?embedded=no").find("embedded \"no\""), std::string::npos);
  EXPECT_NE(error_of("kafka://?embedded=false").find("needs bootstrap"), std::string::npos);
  EXPECT_NE(error_of("kafka://?bootstrap=h:9092").find("needs embedded=false"), std::string::npos);
  EXPECT_NE(error_of("kafka://?embedded=false&bootstrap=h").find("\"h\" is not host:port"), std::string::npos);
  EXPECT_NE(error_of("kafka://?embedded=false&bootstrap=h:1, h:2").find("space or a TAB"), std::string::npos);
  EXPECT_NE(error_of(external + "&partitions=2").find("describe the embedded cluster"), std::string::npos);
  EXPECT_NE(error_of(external + "&sasl=plain").find("sasl needs username and password"), std::string::npos);
  EXPECT_NE(error_of(external + "&username=u").find("need sasl="), std::string::npos);
  EXPECT_NE(error_of(external + "&ca=ca.pem").find("need tls=on or tls=verify"), std::string::npos);
  EXPECT_NE(error_of(external + "&tls=on&cert=c.pem").find("cert and key go together"), std::string::npos);
  EXPECT_NE(error_of(external + "&mode=verify&ca=c").find("mode applies to tls listeners"), std::string::npos);
  EXPECT_NE(error_of("kafka://?tls=on").find("the embedded broker has neither"), std::string::npos);
  EXPECT_NE(error_of("tcp://127.0.0.1:0?sasl=plain").find("apply to kafka only"), std::string::npos);
}

TEST(ListenerUrl, IpAddressHosts) {
  EXPECT_TRUE(has_ip_address_host("10.0.0.1:9093"));
  EXPECT_TRUE(has_ip_address_host("kafka:9093,[::1]:9093"));
  EXPECT_FALSE(has_ip_address_host("kafka-1:9093,kafka-2.example:9093"));
}

}  // namespace
}  // namespace kumasim::sim
