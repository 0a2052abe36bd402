#include "simulator/listener_config.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace kumasim::sim {
namespace {

using formats::Transport;

std::variant<Transport, std::string> transport_from(std::string_view scheme) {
  if (scheme == "tcp") return Transport::tcp;
  if (scheme == "udp") return Transport::udp;
  if (scheme == "tls") return Transport::tls;
  if (scheme == "kafka") return Transport::kafka;
  return "unknown transport \"" + std::string(scheme) + "\" (tcp, udp, tls or kafka)";
}

std::optional<std::uint64_t> number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// host:port, [v6]:port or :port.
std::optional<std::string> read_address(std::string_view address, ListenerConfig& config) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return "address \"" + std::string(address) + "\" has no :PORT";
  std::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const auto port = number(address.substr(colon + 1));
  if (!port || *port > 65535) return "port \"" + std::string(address.substr(colon + 1)) + "\" is not 0-65535";
  if (!host.empty()) config.host = host;
  config.port = static_cast<std::uint16_t>(*port);
  return std::nullopt;
}

std::optional<std::string> read_delimiter(std::string_view value, ListenerConfig& config) {
  static const std::map<std::string_view, char> kDelimiters{{"lf", '\n'}, {"tab", '\t'}, {"nul", '\0'}};
  if (value == "none") {
    config.udp_delimited = false;
    return std::nullopt;
  }
  const auto it = kDelimiters.find(value);
  if (it == kDelimiters.end()) return "delimiter \"" + std::string(value) + "\" is not lf, tab, nul or none";
  config.delimiter = it->second;
  config.udp_delimited = true;
  return std::nullopt;
}

std::optional<std::string> read_framing(std::string_view value, ListenerConfig& config) {
  if (value == "kuma") config.framing = formats::FramingMode::delimiter;
  else if (value == "rfc6587") config.framing = formats::FramingMode::octet;
  else if (value == "auto") config.framing = formats::FramingMode::automatic;
  else return "framing \"" + std::string(value) + "\" is not kuma, rfc6587 or auto";
  return std::nullopt;
}

// KUMA's rule for a Kafka topic and consumer group (§2.3).
std::optional<std::string> read_kafka_name(std::string_view key, std::string_view value, std::string& out) {
  const bool allowed = std::all_of(value.begin(), value.end(), [](char c) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    return alnum || c == '.' || c == '_' || c == '-';
  });
  if (value.empty() || value.size() > 255 || !allowed) {
    return std::string(key) + " \"" + std::string(value) + "\" is not 1-255 characters of [A-Za-z0-9._-]";
  }
  out = value;
  return std::nullopt;
}

std::optional<std::string> read_count(std::string_view key, std::string_view value, int max, int& out) {
  const auto n = number(value);
  if (!n || *n == 0 || *n > static_cast<std::uint64_t>(max)) {
    return std::string(key) + " \"" + std::string(value) + "\" is not 1-" + std::to_string(max);
  }
  out = static_cast<int>(*n);
  return std::nullopt;
}

std::optional<std::string> read_option(std::string_view key, std::string_view value, ListenerConfig& config) {
  if (key == "name") {
    if (value.empty()) return std::string("name is empty");
    config.name = value;
  } else if (key == "codec") {
    const auto codec = formats::codec_from_name(value);
    if (!codec) return "codec \"" + std::string(value) + "\" is not json, cef, syslog-cef, syslog, rfc5424, rfc3164, raw or auto";
    config.codec = *codec;
  } else if (key == "delimiter") {
    return read_delimiter(value, config);
  } else if (key == "framing") {
    return read_framing(value, config);
  } else if (key == "buffer") {
    const auto bytes = number(value);
    if (!bytes || *bytes == 0) return "buffer \"" + std::string(value) + "\" is not a positive number of bytes";
    config.buffer = *bytes;
  } else if (key == "rcvbuf") {
    const auto bytes = number(value);
    if (!bytes || *bytes == 0 || *bytes > (1u << 30)) return "rcvbuf \"" + std::string(value) + "\" is not 1 to 1073741824 bytes";
    config.rcvbuf = *bytes;
  } else if (key == "mode") {
    if (value != "encrypt" && value != "verify") return "mode \"" + std::string(value) + "\" is not encrypt or verify";
    config.tls.mode = value == "verify" ? tls::TlsMode::verify : tls::TlsMode::encrypt;
  } else if (key == "topic") {
    return read_kafka_name(key, value, config.topic);
  } else if (key == "group") {
    return read_kafka_name(key, value, config.group);
  } else if (key == "partitions") {
    return read_count(key, value, 1000, config.partitions);
  } else if (key == "brokers") {
    return read_count(key, value, 16, config.brokers);
  } else if (key == "cert" || key == "key" || key == "ca") {
    (key == "cert" ? config.tls.cert_file : key == "key" ? config.tls.key_file : config.tls.ca_file) = value;
  } else {
    return "unknown key \"" + std::string(key) + "\"";
  }
  return std::nullopt;
}

// The rules that involve several keys.
std::optional<std::string> check(const ListenerConfig& config) {
  const bool udp = config.transport == Transport::udp;
  const std::uint64_t max = udp ? kUdpBufferMax : kTcpBufferMax;
  if (config.buffer > max) return "buffer " + std::to_string(config.buffer) + " is over KUMA's maximum " + std::to_string(max);
  if (udp && config.framing != formats::FramingMode::delimiter) return std::string("framing applies to tcp and tls only");
  if (config.transport == Transport::tls && (config.tls.cert_file.empty() || config.tls.key_file.empty())) {
    return std::string("tls needs cert and key (PEM files; kumasim pki DIR makes them)");
  }
  if (config.tls.mode == tls::TlsMode::verify && config.tls.ca_file.empty()) return std::string("mode=verify needs ca");
  const bool kafka = config.transport == Transport::kafka;
  if (kafka && config.framing != formats::FramingMode::delimiter) {
    return std::string("framing applies to tcp and tls only");
  }
  if (kafka && config.port != 0) {
    return "port " + std::to_string(config.port) + ": the embedded broker picks its own ports, use port 0";
  }
  const auto& t = config.tls;
  const bool any_tls =
      t.mode != tls::TlsMode::encrypt || !t.cert_file.empty() || !t.key_file.empty() || !t.ca_file.empty();
  if (kafka && any_tls) {
    return std::string("TLS to the embedded broker is not supported yet");
  }
  if (kafka && config.buffer != 0) return std::string("buffer does not apply to kafka (KUMA fetches up to 16 MB)");
  const ListenerConfig defaults;
  const bool kafka_keys = config.topic != defaults.topic || config.group != defaults.group ||
                          config.partitions != defaults.partitions || config.brokers != defaults.brokers;
  if (!kafka && kafka_keys) {
    return std::string("topic, group, partitions and brokers apply to kafka only");
  }
  return std::nullopt;
}

}  // namespace

std::uint64_t ListenerConfig::buffer_size() const {
  if (buffer != 0) return buffer;
  return transport == Transport::udp ? formats::kKumaUdpBuffer : formats::kKumaTcpBuffer;
}

std::string transport_name(Transport transport) {
  switch (transport) {
    case Transport::tcp: return "tcp";
    case Transport::udp: return "udp";
    case Transport::tls: return "tls";
    case Transport::kafka: return "kafka";
    case Transport::none: return "none";
  }
  return "?";
}

std::variant<ListenerConfig, std::string> parse_listener_url(std::string_view url, int index) {
  ListenerConfig config;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "listener \"" + std::string(url) + "\": expected TRANSPORT://HOST:PORT";
  auto transport = transport_from(url.substr(0, scheme_end));
  if (auto* error = std::get_if<std::string>(&transport)) return "listener \"" + std::string(url) + "\": " + *error;
  config.transport = std::get<Transport>(transport);
  std::string_view rest = url.substr(scheme_end + 3);
  const auto query_start = rest.find('?');
  auto fail = [&](const std::string& why) { return "listener \"" + std::string(url) + "\": " + why; };
  if (auto error = read_address(rest.substr(0, query_start), config)) return fail(*error);
  std::string_view query = query_start == std::string_view::npos ? std::string_view{} : rest.substr(query_start + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) return fail("\"" + std::string(pair) + "\" is not KEY=VALUE");
    if (auto error = read_option(pair.substr(0, eq), pair.substr(eq + 1), config)) return fail(*error);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  if (auto error = check(config)) return fail(*error);
  if (config.name.empty()) config.name = transport_name(config.transport) + "-" + std::to_string(index);
  return config;
}

}  // namespace kumasim::sim
