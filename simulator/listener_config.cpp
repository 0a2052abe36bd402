#include "simulator/listener_config.h"

#include <arpa/inet.h>

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

// The URL as error messages show it (redacted_url, listener_config.h).
std::string redacted(std::string_view url) {
  std::string out(url);
  constexpr std::string_view kKey = "password=";
  for (std::size_t at = out.find(kKey); at != std::string::npos; at = out.find(kKey, at + 1)) {
    if (at == 0 || (out[at - 1] != '?' && out[at - 1] != '&')) continue;  // "old_password=": another key
    const std::size_t from = at + kKey.size();
    // Up to the next KEY=VALUE pair: a raw "&" in the password is hidden too.
    std::size_t to = out.find('&', from);
    while (to != std::string::npos) {
      const std::size_t next = out.find('&', to + 1);
      if (out.substr(to + 1, next == std::string::npos ? std::string::npos : next - to - 1).find('=') != std::string::npos) break;
      to = next;
    }
    if (to == std::string::npos) to = out.size();
    out.replace(from, to - from, "***");
  }
  return out;
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

// "%26" -> "&": every value may hold the URL's separators (a password, or
// anything a configuration file's map gives, which url_from_map encodes).
std::optional<std::string> percent_decode(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (value[i] != '%') {
      out += value[i];
      continue;
    }
    unsigned byte = 0;
    if (i + 2 >= value.size()) return std::nullopt;
    const auto [end, ec] = std::from_chars(value.data() + i + 1, value.data() + i + 3, byte, 16);
    if (ec != std::errc() || end != value.data() + i + 3) return std::nullopt;
    out += static_cast<char>(byte);
    i += 2;
  }
  return out;
}

// An external cluster's brokers: host:port[,host:port...]; §2.3 refuses a
// space or a TAB anywhere.
std::optional<std::string> read_bootstrap(std::string_view value, ListenerConfig& config) {
  const auto fail = [&](const std::string& why) { return "bootstrap \"" + std::string(value) + "\": " + why; };
  if (value.empty()) return fail("is empty (host:port[,host:port...])");
  if (value.find_first_of(" \t") != std::string_view::npos) return fail("KUMA refuses a space or a TAB in the URL");
  std::string_view rest = value;
  while (true) {
    const auto comma = rest.find(',');
    const std::string_view entry = rest.substr(0, comma);
    const auto colon = entry.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return fail("\"" + std::string(entry) + "\" is not host:port");
    const auto port = number(entry.substr(colon + 1));
    if (!port || *port == 0 || *port > 65535) return fail("\"" + std::string(entry) + "\" has no port 1-65535");
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  config.bootstrap = value;
  return std::nullopt;
}

std::optional<std::string> read_kafka_option(std::string_view key, std::string_view value, ListenerConfig& config) {
  if (key == "embedded") {
    if (value != "true" && value != "false") return "embedded \"" + std::string(value) + "\" is not true or false";
    config.embedded = value == "true";
  } else if (key == "bootstrap") {
    return read_bootstrap(value, config);
  } else if (key == "sasl") {
    static const std::map<std::string_view, KafkaSasl> kSasl{{"off", KafkaSasl::none},
                                                             {"plain", KafkaSasl::plain},
                                                             {"scram-sha-256", KafkaSasl::scram_sha_256},
                                                             {"scram-sha-512", KafkaSasl::scram_sha_512}};
    const auto it = kSasl.find(value);
    if (it == kSasl.end()) return "sasl \"" + std::string(value) + "\" is not off, plain, scram-sha-256 or scram-sha-512";
    config.sasl = it->second;
  } else if (key == "username" || key == "password") {
    (key == "username" ? config.username : config.password) = value;  // parse_listener_url decoded every value
  } else if (key == "tls") {
    if (value == "off") config.kafka_tls = KafkaTls::off;
    else if (value == "on") config.kafka_tls = KafkaTls::on;
    else if (value == "verify") config.kafka_tls = KafkaTls::verify;
    else return "tls \"" + std::string(value) + "\" is not off, on or verify";
  } else {
    return "unknown key \"" + std::string(key) + "\"";
  }
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
    return read_kafka_option(key, value, config);
  }
  return std::nullopt;
}

// 127.0.0.0/8, ::1 or localhost: where the embedded broker can be reached.
bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  unsigned char address[16];
  if (::inet_pton(AF_INET, host.c_str(), address) == 1) return address[0] == 127;
  in6_addr v6{};
  return ::inet_pton(AF_INET6, host.c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

// The Kafka rules: the embedded broker's keys or an external cluster's, and
// security settings that are whole.
std::optional<std::string> check_kafka(const ListenerConfig& config) {
  const ListenerConfig defaults;
  if (config.port != 0) {
    return "port " + std::to_string(config.port) +
           ": the embedded broker picks its own ports, use port 0 (an external cluster: bootstrap=)";
  }
  if (config.tls.mode != tls::TlsMode::encrypt) return std::string("mode applies to tls listeners; kafka uses tls=off|on|verify");
  const bool secured = config.sasl != KafkaSasl::none || config.kafka_tls != KafkaTls::off;
  if (config.embedded) {
    if (!is_loopback(config.host)) {
      return "host " + config.host +
             ": the embedded broker listens on loopback (127.0.0.1) only; use 127.0.0.1, localhost or an empty "
             "host (kafka://:0), and a real cluster (embedded=false) to share a topic across machines";
    }
    if (!config.bootstrap.empty()) return std::string("bootstrap names an external cluster: it needs embedded=false");
    if (secured || !config.username.empty() || !config.password.empty() || !config.tls.ca_file.empty() ||
        !config.tls.cert_file.empty() || !config.tls.key_file.empty()) {
      return std::string("sasl, tls and their keys apply to external clusters (embedded=false): the embedded "
                         "broker has neither");
    }
    return std::nullopt;
  }
  if (config.bootstrap.empty()) return std::string("embedded=false needs bootstrap=host:port[,host:port...]");
  if (config.partitions != defaults.partitions || config.brokers != defaults.brokers) {
    return std::string("partitions and brokers describe the embedded cluster: not with embedded=false");
  }
  if (config.sasl == KafkaSasl::none && (!config.username.empty() || !config.password.empty())) {
    return std::string("username and password need sasl=plain|scram-sha-256|scram-sha-512");
  }
  if (config.sasl != KafkaSasl::none && (config.username.empty() || config.password.empty())) {
    return std::string("sasl needs username and password");
  }
  const auto& t = config.tls;
  if (config.kafka_tls == KafkaTls::off && (!t.ca_file.empty() || !t.cert_file.empty() || !t.key_file.empty())) {
    return std::string("ca, cert and key need tls=on or tls=verify");
  }
  if (t.cert_file.empty() != t.key_file.empty()) return std::string("cert and key go together (a client certificate)");
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
  if (kafka) {
    if (auto error = check_kafka(config)) return error;
  }
  if (config.buffer != 0 && kafka) return std::string("buffer does not apply to kafka (KUMA fetches up to 16 MB)");
  const ListenerConfig defaults;
  const bool kafka_keys = config.topic != defaults.topic || config.group != defaults.group ||
                          config.partitions != defaults.partitions || config.brokers != defaults.brokers ||
                          !config.embedded || !config.bootstrap.empty() || config.sasl != KafkaSasl::none ||
                          !config.username.empty() || !config.password.empty() || config.kafka_tls != KafkaTls::off;
  if (!kafka && kafka_keys) {
    return std::string("topic, group, partitions, brokers, embedded, bootstrap, sasl, username, password and tls "
                       "apply to kafka only");
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

std::string sasl_mechanism(KafkaSasl sasl) {
  switch (sasl) {
    case KafkaSasl::none: return "";
    case KafkaSasl::plain: return "PLAIN";
    case KafkaSasl::scram_sha_256: return "SCRAM-SHA-256";
    case KafkaSasl::scram_sha_512: return "SCRAM-SHA-512";
  }
  return "";
}

bool has_ip_address_host(const std::string& bootstrap) {
  std::string_view rest = bootstrap;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view entry = rest.substr(0, comma);
    std::string host(entry.substr(0, entry.rfind(':')));
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    unsigned char address[16];
    if (::inet_pton(AF_INET, host.c_str(), address) == 1 || ::inet_pton(AF_INET6, host.c_str(), address) == 1) {
      return true;
    }
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  return false;
}

std::variant<ListenerConfig, std::string> parse_listener_url(std::string_view url, int index) {
  ListenerConfig config;
  const std::string shown = redacted(url);  // every message that echoes the URL hides the password
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "listener \"" + shown + "\": expected TRANSPORT://HOST:PORT";
  auto transport = transport_from(url.substr(0, scheme_end));
  if (auto* error = std::get_if<std::string>(&transport)) return "listener \"" + shown + "\": " + *error;
  config.transport = std::get<Transport>(transport);
  std::string_view rest = url.substr(scheme_end + 3);
  const auto query_start = rest.find('?');
  auto fail = [&](const std::string& why) { return "listener \"" + shown + "\": " + why; };
  const std::string_view address = rest.substr(0, query_start);
  // A Kafka listener has no address of its own: "kafka://?bootstrap=..." is fine.
  const bool no_address = address.empty() && config.transport == Transport::kafka;
  if (!no_address) {
    if (auto error = read_address(address, config)) return fail(*error);
  }
  std::string_view query = query_start == std::string_view::npos ? std::string_view{} : rest.substr(query_start + 1);
  std::string_view previous_key;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos && previous_key == "password") {
      return fail("password holds a raw \"&\": write it as %26");  // the rest of the password is not echoed
    }
    if (eq == std::string_view::npos) return fail("\"" + std::string(pair) + "\" is not KEY=VALUE");
    const std::string_view key = pair.substr(0, eq);
    previous_key = key;
    const auto value = percent_decode(pair.substr(eq + 1));
    if (!value) return fail(std::string(key) + ": a bad %XX escape (write % as %25)");  // the value is not echoed
    if (auto error = read_option(key, *value, config)) return fail(*error);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  if (auto error = check(config)) return fail(*error);
  if (config.name.empty()) config.name = transport_name(config.transport) + "-" + std::to_string(index);
  return config;
}

std::string url_encoded(std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       std::string_view("-._~:/,[]@*+").find(c) != std::string_view::npos;
    if (plain) {
      out += c;
    } else {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

std::string redacted_url(std::string_view url) { return redacted(url); }

}  // namespace kumasim::sim
