// OpenSSL contexts for the TLS listener (kuma-receiver.md §2.1) and for the
// clients that talk to it: tests and the project's own sender.
//
// Both sides speak TLS 1.2 or later, without compression or renegotiation.
// The contexts are built once at startup, so configuration errors throw
// std::runtime_error with the file and OpenSSL's reason; nothing here runs on
// the data path.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <openssl/ssl.h>

#include <optional>
#include <string>

namespace kumasim::tls {

enum class TlsMode {
  encrypt,  // KUMA "Enabled": server certificate only, no client certificate requested
  verify,   // KUMA "With verification": a client certificate signed by the CA is required (mutual TLS)
};

struct TlsSettings {
  TlsMode mode = TlsMode::encrypt;
  std::string cert_file;  // PEM: the server certificate, then any intermediates
  std::string key_file;   // PEM: its private key, unencrypted
  std::string ca_file;    // PEM: the CA that client certificates must chain to (verify mode only)
};

boost::asio::ssl::context make_server_context(const TlsSettings& settings);

struct CertificateFiles {
  std::string cert_file;  // PEM chain, leaf first
  std::string key_file;   // PEM private key, unencrypted
};

// A client context that verifies the server's chain against `ca_file` and,
// when given, presents `client` (for listeners in verify mode). The host name
// is per connection: call set_server_host() on each stream before its handshake.
boost::asio::ssl::context make_client_context(const std::string& ca_file,
                                              const std::optional<CertificateFiles>& client = std::nullopt);

// On a client connection, before the handshake: the certificate must name
// `host` (a DNS name, or an IP literal without brackets, matched against the
// iPAddress SANs), and SNI carries it when it is a name (RFC 6066 allows no
// IP literal there). This is what DKP log-shipper does whenever TLS is on.
// Pass stream.native_handle().
void set_server_host(SSL* ssl, const std::string& host);

}  // namespace kumasim::tls
