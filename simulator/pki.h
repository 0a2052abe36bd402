// A throwaway PKI for TLS tests and for users (`kumasim pki DIR`): a CA, a
// server certificate and a client certificate signed by it, ECDSA P-256.
//
// DKP log-shipper verifies the server certificate chain and host name whenever
// TLS is on (dkp-log-shipper.md §3.3-§3.4), so the server certificate names
// every address a test connects to, and the CA is what goes into `caFile`.
// The client certificate is for the listener's verify mode (mutual TLS).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kumasim::pki {

// Empty on success; otherwise one line for people naming what failed (the
// file, the name) and why (OpenSSL's or the system's reason).
// `if (auto error = pki::generate(...))` reads as "if it failed".
using Error = std::optional<std::string>;

struct Options {
  // Extra names for the server certificate besides the defaults: IP literals
  // become iPAddress SANs, anything else a dNSName ("kuma.example", "*.lab").
  std::vector<std::string> names;
  // Validity after now. Certificates start one hour in the past so that a
  // peer whose clock lags a little still accepts them.
  int days = 3650;
};

inline constexpr int kMaxDays = 100 * 365;

struct CertificateAndKey {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8, unencrypted ("BEGIN PRIVATE KEY")
};

struct Bundle {
  CertificateAndKey ca;      // CN "kumasim test CA"
  CertificateAndKey server;  // SANs: server_names(); extendedKeyUsage serverAuth
  CertificateAndKey client;  // extendedKeyUsage clientAuth
};

// The file names write() uses inside its directory.
inline constexpr std::string_view kCaCertFile = "ca.pem";
inline constexpr std::string_view kCaKeyFile = "ca-key.pem";
inline constexpr std::string_view kServerCertFile = "server.pem";
inline constexpr std::string_view kServerKeyFile = "server-key.pem";
inline constexpr std::string_view kClientCertFile = "client.pem";
inline constexpr std::string_view kClientKeyFile = "client-key.pem";

// The server certificate's SANs, in order: 127.0.0.1, ::1, localhost, then
// each extra name not already listed (IPs compared by value, DNS names
// without regard to case).
std::vector<std::string> server_names(const std::vector<std::string>& extra);

// Empty when `name` can go into a SAN; otherwise why not.
Error check_name(std::string_view name);

bool is_ip_literal(std::string_view text);

// Generates the three keys and certificates in memory.
Error generate(const Options& options, Bundle& out);

// Writes the six PEM files into `dir` (created if missing); private keys get
// mode 0600. Refuses, before writing anything, when one of the files exists,
// unless `force`.
Error write(const Bundle& bundle, const std::string& dir, bool force);

// generate() then write().
Error create(const std::string& dir, const Options& options, bool force, Bundle& out);


}  // namespace kumasim::pki
