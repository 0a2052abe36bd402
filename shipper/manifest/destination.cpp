// ClusterLogDestination: type, the Socket and Kafka objects, encoding and TLS
// (dkp-log-shipper.md §3.1-§3.5).
#include "formats/base64.h"
#include "formats/cef.h"
#include "shipper/manifest/kinds.h"
#include "shipper/manifest/rules.h"
#include "crypto/openssl_error.h"
#include "crypto/pem.h"
#include "crypto/openssl_ptr.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <algorithm>
#include <array>
#include <cstring>

namespace kumasim::shipper::detail {
namespace {

const std::vector<std::string_view> kTypes = {"Loki",  "Elasticsearch", "Logstash", "Vector",
                                              "Kafka", "Splunk",        "Socket"};
// The sub-objects of the other types: the CRD knows them, so they are kept, but never read.
const std::vector<std::string_view> kOtherBackends = {"loki", "elasticsearch", "logstash", "vector", "splunk"};

const Schema kSpec{{"type", "loki", "elasticsearch", "logstash", "vector", "kafka", "splunk", "socket", "extraLabels",
                    "rateLimit", "buffer", "transformations"}};
const Schema kEncoding{{"codec", "cef"}};
const Schema kCefDevice{{"deviceVendor", "deviceProduct", "deviceVersion"}};
const Schema kClientCrt{{"crtFile", "keyFile", "keyPass"}};
const Schema kSecretRef{{"name"}};
const Schema kSocketTls{{"caFile", "clientCrt", "secretRef"}};
const Schema kTcp{{"tls", "verifyHostname", "verifyCertificate"}};
const Schema kKafkaTls{{"caFile", "clientCrt", "verifyHostname", "verifyCertificate"}};
const Schema kSasl{{"mechanism", "username", "password"}};

const Schema kSocket{{"address", "mode", "encoding", "tcp"},
                     {{"extraLabels", "extralabels-under-socket",
                       "extraLabels belongs directly under spec; here the API server prunes it, so no label is set "
                       "(with codec CEF the header falls back to `Deckhouse Event` and severity 5); move the block "
                       "to spec.extraLabels"}}};
const Schema kKafka{{"topic", "bootstrapServers", "encoding", "keyField", "sasl", "tls"},
                    {{"extraLabels", "extralabels-under-kafka",
                      "extraLabels belongs directly under spec; here the API server prunes it, so no label is set; "
                      "move the block to spec.extraLabels"}}};

constexpr std::array<std::string_view, 2> kVerifyFlags = {"verifyHostname", "verifyCertificate"};

// A device field: a non-empty string that Vector's CEF encoder can take.
void read_device_field(const ObjectReader& cef, std::string_view key, std::string& target) {
  auto value = cef.string(key);
  if (!value) return;
  if (value->empty()) {
    cef.doc().error(cef.get(key), cef.path_of(key), "min-length", "must not be empty; " + std::string(kRejected));
    return;
  }
  formats::cef::EncoderConfig cfg;  // the defaults, with only this field changed
  if (key == "deviceVendor") cfg.device_vendor = *value;
  if (key == "deviceProduct") cfg.device_product = *value;
  if (key == "deviceVersion") cfg.device_version = *value;
  if (const auto error = formats::cef::config_error(cfg)) {
    cef.doc().error(cef.get(key), cef.path_of(key), "cef-device-field-too-long",
                    "Vector: " + *error + "; " + std::string(kAgentFails));
    return;
  }
  target = std::move(*value);
}

void read_encoding(const ObjectReader& transport, const std::vector<std::string_view>& codecs, Destination& out) {
  const auto encoding = transport.object("encoding", kEncoding);
  if (!encoding) return;
  const auto codec = encoding->enumeration("codec", codecs);
  if (codec) out.codec = codec_named(*codec).value_or(Codec::json);  // the enum check reported any other name
  const auto cef = encoding->object("cef", kCefDevice);
  if (!cef) return;
  if (out.codec != Codec::cef) {
    transport.doc().error(cef->node(), cef->path(), "one-of",
                          "encoding.cef is allowed only with codec CEF (codec here: " + codec.value_or("JSON") +
                              "); " + std::string(kRejected));
    return;
  }
  read_device_field(*cef, "deviceVendor", out.cef.vendor);
  read_device_field(*cef, "deviceProduct", out.cef.product);
  read_device_field(*cef, "deviceVersion", out.cef.version);
}

// Where a TLS field is written, for findings about its decoded content.
struct TlsField {
  YAML::Node at;
  std::string path;
};

// One base64 field of §3.3; a value that does not decode becomes "", as in
// DKP. `decoded` is set (emplaced: assigning a yaml-cpp node writes through
// it) only when the value decoded.
std::string decode_tls_field(const ObjectReader& object, std::string_view key, const std::string& text,
                             std::optional<TlsField>& decoded_field) {
  if (auto decoded = formats::base64_decode(text)) {
    decoded_field.emplace(TlsField{object.get(key), object.path_of(key)});
    return std::move(*decoded);
  }
  std::string message = "not valid standard base64; DKP silently uses an empty value instead";
  if (key == "caFile" || key == "crtFile") {
    message += ", yet TLS is still enabled because the manifest string is not empty";
  }
  object.doc().warn(object.get(key), object.path_of(key), "base64-invalid", message);
  return {};
}

// A tls object as read: the material, and where each field is written for
// the checks of its content that wait until the transport is known.
struct TlsRead {
  TlsMaterial material;
  std::optional<TlsField> ca, crt, key, pass;  // each set when given and valid base64
  bool key_given = false;     // keyFile or keyPass given
  bool verify_flags = false;  // Kafka's honoured verify flags given
};

void read_client_crt(const ObjectReader& tls, TlsRead& out, std::string& crt_text) {
  const auto crt = tls.object("clientCrt", kClientCrt);
  if (!crt) return;
  for (const std::string_view key : {"crtFile", "keyFile"}) {
    if (!crt->has(key)) crt->missing(key, "client-crt-incomplete", "clientCrt needs both crtFile and keyFile");
  }
  if (auto text = crt->string("crtFile")) {
    crt_text = *text;
    out.material.crt_pem = decode_tls_field(*crt, "crtFile", *text, out.crt);
  }
  if (auto text = crt->string("keyFile")) {
    out.material.key_pem = decode_tls_field(*crt, "keyFile", *text, out.key);
    out.key_given = true;
  }
  if (auto text = crt->string("keyPass")) {
    out.material.key_pass = decode_tls_field(*crt, "keyPass", *text, out.pass);
    out.key_given = true;
  }
}

// caFile and clientCrt (§3.3); Kafka also honours its verify flags (§3.5).
TlsRead read_tls(const ObjectReader& tls, bool kafka) {
  TlsRead out;
  std::string ca_text, crt_text;
  if (auto text = tls.string("caFile")) {
    ca_text = *text;
    out.material.ca_pem = decode_tls_field(tls, "caFile", *text, out.ca);
  }
  read_client_crt(tls, out, crt_text);
  // §16.6: the rule tests the manifest strings, not the decoded PEM.
  out.material.enabled = !ca_text.empty() || !crt_text.empty();
  if (kafka) {
    const auto hostname = tls.boolean("verifyHostname");
    const auto certificate = tls.boolean("verifyCertificate");
    out.material.verify_hostname = hostname.value_or(true);
    out.material.verify_certificate = certificate.value_or(true);
    out.verify_flags = hostname.has_value() || certificate.has_value();
  }
  if (!out.material.enabled && (out.key_given || out.verify_flags)) {
    tls.doc().warn(tls.node(), tls.path(), "tls-not-enabled",
                   "TLS settings are given but neither caFile nor clientCrt.crtFile is set, so DKP does not enable "
                   "TLS and the connection is plain");
  }
  return out;
}



void pem_error(Doc& doc, const TlsField& field, const std::string& what) {
  doc.error(field.at, field.path, "tls-pem-invalid",
            what + "; " + std::string(kAgentFails));
}

// The decoded PEM as Vector (OpenSSL) would load it once TLS is on: caFile a
// bundle of one or more certificates, crtFile a certificate (intermediates
// may follow), keyFile a private key, decrypted with keyPass when encrypted,
// that belongs to the certificate. Fields that did not decode were warned
// about already.
void check_tls_pem(Doc& doc, const TlsRead& read) {
  const TlsMaterial& tls = read.material;
  ERR_clear_error();
  if (read.ca && !tls.ca_pem.empty()) {
    auto bio = openssl::memory_bio(tls.ca_pem);
    int count = 0;
    while (openssl::Cert cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) ++count;
    const std::string reasons = openssl::take_errors();  // the read past the last certificate fails by design
    if (count == 0) pem_error(doc, *read.ca, "the decoded caFile holds no PEM certificate (OpenSSL: " + reasons + ")");
  }
  openssl::Cert leaf;
  if (read.crt && !tls.crt_pem.empty()) {
    auto bio = openssl::memory_bio(tls.crt_pem);
    leaf.reset(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!leaf) {
      pem_error(doc, *read.crt, "the decoded crtFile holds no PEM certificate (OpenSSL: " + openssl::take_errors() + ")");
    }
  }
  openssl::Key key;
  if (read.key && !tls.key_pem.empty()) {
    auto bio = openssl::memory_bio(tls.key_pem);
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, openssl::key_password, const_cast<std::string*>(&tls.key_pass)));
    if (!key) {
      const std::string reasons = openssl::take_errors();
      if (tls.key_pem.find("ENCRYPTED") == std::string::npos) {
        pem_error(doc, *read.key, "the decoded keyFile holds no PEM private key (OpenSSL: " + reasons + ")");
      } else if (tls.key_pass.empty()) {
        pem_error(doc, *read.key,
                  "keyFile is an encrypted private key, but keyPass is missing, empty or not valid base64, so "
                  "there is no password to decrypt it (OpenSSL: " + reasons + ")");
      } else {
        pem_error(doc, read.pass ? *read.pass : *read.key,
                  "keyPass does not decrypt the keyFile private key (OpenSSL: " + reasons + ")");
      }
    }
  }
  if (leaf && key && X509_check_private_key(leaf.get(), key.get()) != 1) {
    doc.error(read.key->at, read.key->path, "tls-key-mismatch",
              "keyFile is not the private key of the crtFile certificate (OpenSSL: " + openssl::take_errors() +
                  "); " + std::string(kAgentFails));
  }
  ERR_clear_error();
}

void warn_verify_ignored(const ObjectReader& object, std::string_view key, bool pruned, const TlsMaterial& tls) {
  std::string message =
      pruned ? "DKP's code would read this flag here, but the CRD has no such field and the API server prunes it"
             : "the CRD accepts this flag here, but DKP's code reads it from tcp.tls, so it has no effect";
  message += tls.enabled ? "; TLS is on, and the server certificate and host name are always verified"
                         : "; TLS is off anyway (no caFile or crtFile), so the connection is plain TCP";
  object.doc().warn(object.get(key), object.path_of(key), "tcp-verify-ignored", message);
}

// §3.2: newer DKP builds take the TLS material from a Secret instead of the
// inline values; kumasim-shipper reads no Secrets. Returns whether one is named.
bool read_secret_ref(const ObjectReader& tls, bool udp) {
  const auto ref = tls.object("secretRef", kSecretRef);
  if (!ref) return false;
  const auto name = ref->string("name");
  if (!name || name->empty()) return false;
  if (!udp) {  // UDP never uses TLS: read_socket warns instead
    ref->doc().error(ref->get("name"), ref->path_of("name"), "unsupported",
                     "DKP would take the TLS material from the Secret `d8-log-shipper/" + *name +
                         "` (ca.pem, crt.pem, key.pem, keyPass) instead of the inline values, but kumasim-shipper "
                         "cannot read Kubernetes Secrets; put the same material, base64-encoded, into caFile and "
                         "clientCrt instead");
  }
  return true;
}

// §3.4: both placements of the verify flags are ignored; verification stays
// on. Returns whether tcp.tls names a Secret.
bool read_tcp(const ObjectReader& socket, bool udp, Destination& out) {
  const auto tcp = socket.object("tcp", kTcp);
  if (!tcp) return false;
  bool secret = false;
  if (const auto tls = tcp->object("tls", kSocketTls)) {
    const TlsRead read = read_tls(*tls, false);
    out.tls = read.material;
    if (out.tls.enabled && !udp) check_tls_pem(tls->doc(), read);
    secret = read_secret_ref(*tls, udp);
    for (const auto key : kVerifyFlags) {
      if (tls->has(key)) warn_verify_ignored(*tls, key, true, out.tls);
    }
  }
  for (const auto key : kVerifyFlags) {
    if (tcp->boolean(key).has_value()) warn_verify_ignored(*tcp, key, false, out.tls);
  }
  return secret;
}

void read_address(const ObjectReader& socket, SocketSpec& out) {
  auto address = socket.string("address", Need::required);
  if (!address) return;
  const YAML::Node at = socket.get("address");
  if (!matches(kAddressPattern, *address)) {
    socket.doc().error(at, socket.path_of("address"), "pattern",
                       "`" + *address + "` does not match " + std::string(kAddressPattern) +
                           " (HOST:PORT, the port with 2+ digits and no leading 0, so ports 1-9 are refused); " +
                           std::string(kRejected));
    return;
  }
  HostPort parts = split_address(*address);
  if (parts.port > 65535) {
    socket.doc().error(at, socket.path_of("address"), "port-range",
                       "port " + address->substr(address->rfind(':') + 1) + " is above 65535; " +
                           std::string(kAgentFails));
    return;
  }
  out.address = std::move(*address);
  out.host = std::move(parts.host);
  out.port = static_cast<std::uint16_t>(parts.port);
}

void read_socket(const ObjectReader& spec, Destination& out) {
  const auto socket = spec.object("socket", kSocket);
  if (!socket) return;
  SocketSpec transport;
  read_address(*socket, transport);
  if (const auto mode = socket->enumeration("mode", {"TCP", "UDP"}, Need::required); mode == "UDP") {
    transport.mode = SocketSpec::Mode::udp;
    socket->doc().warn(socket->get("mode"), socket->path_of("mode"), "udp-large-events",
                       "each event is one datagram: events above 65,507 bytes are lost, and KUMA's default UDP "
                       "buffer is 16 KB, so large audit events may be dropped without notice");
  }
  read_encoding(*socket, {"Text", "JSON", "Syslog", "CEF", "GELF"}, out);
  const bool udp = transport.mode == SocketSpec::Mode::udp;
  const bool secret = read_tcp(*socket, udp, out);
  if (udp && (out.tls.enabled || secret)) {
    socket->doc().warn(socket->get("tcp"), socket->path_of("tcp"), "tls-not-enabled",
                       "UDP never uses TLS; the datagrams go out plain");
    out.tls.enabled = false;
  }
  out.transport = std::move(transport);
}

// §3.5: SASL is on only when mechanism, username and password are all non-empty.
std::optional<KafkaSpec::Sasl> read_sasl(const ObjectReader& kafka) {
  const auto sasl = kafka.object("sasl", kSasl);
  if (!sasl) return std::nullopt;
  for (const std::string_view key : {"mechanism", "username", "password"}) {
    if (!sasl->has(key)) sasl->missing(key, "sasl-incomplete", "sasl needs mechanism, username and password");
  }
  const auto mechanism = sasl->enumeration("mechanism", {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"});
  const auto username = sasl->string("username");
  const auto password = sasl->string("password");
  if (!mechanism || !username || !password) return std::nullopt;
  if (username->empty() || password->empty()) {
    sasl->doc().warn(sasl->node(), sasl->path(), "sasl-not-enabled",
                     "username or password is empty, so DKP does not enable SASL and connects without it");
    return std::nullopt;
  }
  return KafkaSpec::Sasl{*mechanism, *username, *password};
}

void read_kafka(const ObjectReader& spec, Destination& out) {
  const auto kafka = spec.object("kafka", kKafka);
  if (!kafka) return;
  KafkaSpec transport;
  if (auto topic = kafka->string("topic", Need::required)) transport.topic = std::move(*topic);
  for (auto& [index, server] : kafka->strings("bootstrapServers", Need::required)) {
    if (!matches(kBootstrapPattern, server)) {
      const std::string path = index_path(kafka->path_of("bootstrapServers"), index);
      const YAML::Node list = kafka->get("bootstrapServers");
      kafka->doc().error(list[index], path, "pattern",
                         "`" + server + "` does not match " + std::string(kBootstrapPattern) +
                             " (HOST:PORT, a port of 1-5 digits); " + std::string(kRejected));
    }
    transport.bootstrap_servers.push_back(std::move(server));
  }
  transport.key_field = kafka->string("keyField");
  transport.sasl = read_sasl(*kafka);
  read_encoding(*kafka, {"JSON", "CEF"}, out);
  if (const auto tls = kafka->object("tls", kKafkaTls)) {
    const TlsRead read = read_tls(*tls, true);
    out.tls = read.material;
    if (out.tls.enabled) check_tls_pem(tls->doc(), read);
  }
  out.transport = std::move(transport);
}

// §1 and §3.1: only Socket and Kafka are implemented; the sub-object the type
// needs is required, the others are tolerated and ignored.
bool read_transport(const ObjectReader& spec, std::string_view type, Destination& out) {
  const std::string own = type == "Socket" ? "socket" : "kafka";
  const std::string other = type == "Socket" ? "kafka" : "socket";
  if (!spec.has(own)) {
    spec.doc().error(spec.node(), spec.path_of(own), "one-of",
                     "type " + std::string(type) + " needs the `" + own + "` object; " + std::string(kRejected));
    return false;
  }
  std::vector<std::string_view> ignored = kOtherBackends;
  ignored.push_back(other);
  for (const auto key : ignored) {
    if (!spec.has(key)) continue;
    spec.doc().warn(spec.key_location(key), spec.path_of(key), "ignored-sub-object",
                    "settings for another destination type; DKP ignores them for type " + std::string(type));
  }
  if (type == "Socket") read_socket(spec, out);
  else read_kafka(spec, out);
  return true;
}

}  // namespace

Destination read_destination(Doc& doc, const YAML::Node& node) {
  const ObjectReader spec(doc, node, "spec", kSpec);
  Destination out;
  const auto type = spec.enumeration("type", kTypes, Need::required);
  if (!type) return out;
  if (*type != "Socket" && *type != "Kafka") {
    doc.error(spec.get("type"), spec.path_of("type"), "unsupported",
              "DKP supports type " + *type + ", but kumasim-shipper implements only Socket and Kafka destinations");
    return out;
  }
  if (spec.has("transformations")) {
    doc.error(spec.key_location("transformations"), spec.path_of("transformations"), "unsupported",
              "transformations change the event in ways kumasim-shipper does not reproduce");
  }
  if (!read_transport(spec, *type, out)) return out;
  const LabelsRead labels = read_extra_labels(spec);
  out.extra_labels = labels.labels;
  if (out.codec == Codec::cef) check_cef_extension_keys(spec, labels);
  out.rate_limit = read_rate_limit(spec);
  out.buffer = read_buffer(spec);
  return out;
}

}  // namespace kumasim::shipper::detail
