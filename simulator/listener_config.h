// What one listener is: a KUMA connector's settings (kuma-receiver.md §2.1,
// §2.2) plus the codec of the normalizer behind it. Read from a URL such as
// tcp://127.0.0.1:5140?codec=cef&name=kuma (docs/serve.md lists every key).
#pragma once

#include "formats/framing.h"
#include "formats/normalizer.h"
#include "simulator/tls_context.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace kumasim::sim {

inline constexpr std::uint64_t kTcpBufferMax = 64 * 1024 * 1024;  // 64 MB (§2.1)
inline constexpr std::uint64_t kUdpBufferMax = 64 * 1024;         // 64 KB (§2.2)

enum class KafkaSasl { none, plain, scram_sha_256, scram_sha_512 };
enum class KafkaTls { off, on, verify };

struct ListenerConfig {
  std::string name;
  formats::Transport transport = formats::Transport::tcp;
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  formats::Codec codec = formats::Codec::automatic;
  // TCP/TLS: KUMA cuts at a delimiter; rfc6587/auto emulate a generic syslog server.
  formats::FramingMode framing = formats::FramingMode::delimiter;
  char delimiter = '\n';
  bool udp_delimited = false;  // UDP, Kafka: one datagram (message) is one event unless a delimiter is set
  std::uint64_t buffer = 0;    // the connector buffer; 0 = KUMA's default for the transport
  std::uint64_t rcvbuf = 4 * 1024 * 1024;  // UDP: the socket's receive buffer (SO_RCVBUF)
  tls::TlsSettings tls;  // TLS listeners: mode and PEM files
  // Kafka (§2.3): the topic and KUMA's consumer group; the embedded broker's
  // cluster size, or an external cluster with its security settings.
  std::string topic = "kumasim";
  std::string group = "kumasim";
  int partitions = 1;
  int brokers = 1;
  bool embedded = true;
  std::string bootstrap;  // external: "host:port,host:port"
  KafkaSasl sasl = KafkaSasl::none;
  std::string username, password;
  KafkaTls kafka_tls = KafkaTls::off;  // files in `tls` (ca_file, cert_file, key_file)

  std::uint64_t buffer_size() const;  // `buffer` or the default
};

// Parses "tcp://HOST:PORT?key=value&..." (udp://, tls://, kafka:// likewise); an error
// names the key and the rule. `index` names an unnamed listener ("tcp-1").
std::variant<ListenerConfig, std::string> parse_listener_url(std::string_view url, int index);

// A value for a listener URL's query: parse_listener_url decodes %XX in every
// value, so "&", "=", "%", "#" or a space stay inside it (the YAML map forms
// of serve configs and scenario files build URLs with it).
std::string url_encoded(std::string_view value);

// The URL as messages may show it: the value of password= replaced by ***.
std::string redacted_url(std::string_view url);

// "tcp", "udp", "tls" or "kafka".
std::string transport_name(formats::Transport transport);

// librdkafka's sasl.mechanism ("PLAIN", "SCRAM-SHA-256", ...), empty for none.
std::string sasl_mechanism(KafkaSasl sasl);

// True when `bootstrap` ("host:port,...") names a host by IP address: KUMA
// refuses TLS to such a URL (lint tls-ip-url, §2.3).
bool has_ip_address_host(const std::string& bootstrap);

}  // namespace kumasim::sim
