// The OpenSSL client of a TLS Socket destination (dkp-log-shipper.md §3.3,
// §3.4, §11.1): TLS 1.2 or later; the server chain verified against the CA
// from `caFile` (the system trust store when it is empty); the server name
// always verified against the host part of `address` (the verify flags are
// ignored, as in DKP); a client certificate when `crtFile` is given, its key
// decrypted with `keyPass`. All of it from in-memory PEM.
#pragma once

#include "shipper/manifest/manifest.h"
#include "shipper/delivery/stopper.h"
#include "crypto/openssl_ptr.h"

#include <openssl/ssl.h>

#include <chrono>
#include <string>
#include <variant>

namespace kumasim::shipper {

using SslContext = openssl::Ptr<SSL_CTX, SSL_CTX_free>;
using SslSession = openssl::Ptr<SSL, SSL_free>;

// Why an SSL_* call failed, for people: "certificate verify failed: hostname
// mismatch", "tlsv13 alert certificate required", "Connection reset by peer".
// `result` is the call's return value; call right after it.
std::string tls_error(const SSL* ssl, int result);
// Call before each SSL_* call whose failure tls_error() may describe.
void clear_errors();

class TlsClient {
 public:
  // Throws std::runtime_error naming the bad item and OpenSSL's reason
  // ("client key (keyFile): bad decrypt").
  explicit TlsClient(const TlsMaterial& material);

  // Runs the handshake on a connected non-blocking socket. The session on
  // success; an empty one when the stopper fired; else the reason.
  std::variant<SslSession, std::string> handshake(int fd, const std::string& host, const Stopper& stopper,
                                                  std::chrono::milliseconds timeout) const;

 private:
  SslContext context_;
};

}  // namespace kumasim::shipper
