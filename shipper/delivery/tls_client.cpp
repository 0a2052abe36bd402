#include "shipper/delivery/tls_client.h"

#include "crypto/openssl_error.h"
#include "crypto/pem.h"

#include "shipper/delivery/net.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace kumasim::shipper {

namespace {

// TLS 1.3 lets a server reject the client's certificate (or its lack of
// one) after the client has finished its handshake: the alert would come
// after our first messages, which the server's TCP has acknowledged already.
// So a TLS 1.3 connection is used only once the server has spoken after the
// handshake (a session ticket, or data); a server that sends neither is
// trusted after this long.
constexpr std::chrono::milliseconds kConfirmTimeout{250};


[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("TLS " + what + ": " + openssl::take_errors()); }

openssl::Bio checked_bio(const std::string& pem) {
  openssl::Bio bio = openssl::memory_bio(pem);
  if (!bio) fail("memory");
  return bio;
}

void trust(SSL_CTX* context, const std::string& ca_pem) {
  ERR_clear_error();
  if (ca_pem.empty()) {
    if (SSL_CTX_set_default_verify_paths(context) != 1) fail("system trust store");
    return;
  }
  auto bio = checked_bio(ca_pem);
  X509_STORE* store = SSL_CTX_get_cert_store(context);
  int count = 0;
  while (openssl::Cert cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(store, cert.get()) != 1) fail("CA (caFile)");
    ++count;
  }
  if (count == 0) fail("CA (caFile): no certificate in it");
  ERR_clear_error();  // the read past the last certificate fails by design
}

void present(SSL_CTX* context, const TlsMaterial& material) {
  ERR_clear_error();
  auto certs = checked_bio(material.crt_pem);
  openssl::Cert leaf(PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr));
  if (!leaf || SSL_CTX_use_certificate(context, leaf.get()) != 1) fail("client certificate (crtFile)");
  // Intermediates follow the leaf in the same PEM.
  while (X509* intermediate = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    if (SSL_CTX_add0_chain_cert(context, intermediate) != 1) {
      X509_free(intermediate);
      fail("client certificate chain (crtFile)");
    }
  }
  ERR_clear_error();
  if (material.key_pem.empty()) throw std::runtime_error("TLS client certificate (crtFile) without a key (keyFile)");
  auto key_bio = checked_bio(material.key_pem);
  openssl::Key key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, openssl::key_password,
                                           const_cast<std::string*>(&material.key_pass)));
  if (!key || SSL_CTX_use_PrivateKey(context, key.get()) != 1) fail("client key (keyFile)");
  if (SSL_CTX_check_private_key(context) != 1) fail("client key (keyFile) and certificate (crtFile)");
}

// Sessions are not resumed; the callback only tells the handshake that the
// server has spoken after it (see kConfirmTimeout).
int on_new_session(SSL* ssl, SSL_SESSION*) {
  if (auto* heard = static_cast<bool*>(SSL_get_app_data(ssl))) *heard = true;
  return 0;
}

bool is_ip_literal(const std::string& host) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), address) == 1 || inet_pton(AF_INET6, host.c_str(), address) == 1;
}

// SNI carries names only (RFC 6066 allows no IP literal); an IP literal is
// matched against the certificate's iPAddress names. Partial wildcards
// ("a*.example") match nothing, as RFC 6125 recommends.
std::string expect_host(SSL* ssl, const std::string& host) {
  if (host.empty()) return "no server host name to verify";
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (is_ip_literal(host)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) return "bad server address " + host;
    return {};
  }
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1 ||
      SSL_set_tlsext_host_name(ssl, host.c_str()) != 1)
    return "bad server name " + host + ": " + openssl::take_errors();
  return {};
}

short events_for(int ssl_error) { return ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN; }

bool would_block(int ssl_error) { return ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE; }

}  // namespace

// SSL_get_error() and tls_error() read this thread's error queue and errno,
// which must hold the last call's failure only.
void clear_errors() {
  ERR_clear_error();
  errno = 0;
}

std::string tls_error(const SSL* ssl, int result) {
  const int saved_errno = errno;
  const int error = SSL_get_error(ssl, result);
  switch (error) {
    case SSL_ERROR_ZERO_RETURN: return "the peer closed the connection";
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      return saved_errno != 0 ? errno_text(saved_errno) : "the peer closed the connection";
    case SSL_ERROR_SSL: {
      std::string text = openssl::take_errors();
      const long verify = SSL_get_verify_result(ssl);
      if (verify != X509_V_OK) text += std::string(": ") + X509_verify_cert_error_string(verify);
      return text;
    }
    default: return "OpenSSL error " + std::to_string(error);
  }
}

TlsClient::TlsClient(const TlsMaterial& material) : context_(SSL_CTX_new(TLS_client_method())) {
  ERR_clear_error();
  if (!context_) fail("context");
  SSL_CTX* context = context_.get();
  if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) fail("setting TLS 1.2 as the minimum");
  // Compression leaks plaintext (CRIME), a log stream never renegotiates,
  // and the socket's end-of-file is what ends the stream for us.
  SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(context, on_new_session);
  trust(context, material.ca_pem);
  if (!material.crt_pem.empty()) present(context, material);
}

std::variant<SslSession, std::string> TlsClient::handshake(int fd, const std::string& host, const Stopper& stopper,
                                                           std::chrono::milliseconds timeout) const {
  ERR_clear_error();
  SslSession ssl(SSL_new(context_.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) return "cannot set up a session: " + openssl::take_errors();
  if (auto error = expect_host(ssl.get(), host); !error.empty()) return error;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  short revents = 0;
  for (;;) {
    clear_errors();
    const int result = SSL_connect(ssl.get());
    if (result == 1) break;
    const int error = SSL_get_error(ssl.get(), result);
    if (!would_block(error)) return tls_error(ssl.get(), result);
    const Wait wait = wait_fd(fd, events_for(error), stopper, deadline, revents);
    if (wait == Wait::stopped) return SslSession{};
    if (wait == Wait::timeout) return "no handshake within " + std::to_string(timeout.count()) + " ms";
  }
  if (SSL_version(ssl.get()) < TLS1_3_VERSION) return ssl;

  bool heard = false;
  SSL_set_app_data(ssl.get(), &heard);
  const auto confirm_deadline = std::min(deadline, std::chrono::steady_clock::now() + kConfirmTimeout);
  for (;;) {
    char byte;
    clear_errors();
    const int result = SSL_peek(ssl.get(), &byte, 1);  // processes tickets and alerts, keeps any data
    if (heard || result > 0) break;
    const int error = SSL_get_error(ssl.get(), result);
    if (!would_block(error)) {
      SSL_set_app_data(ssl.get(), nullptr);
      return tls_error(ssl.get(), result);
    }
    const Wait wait = wait_fd(fd, events_for(error), stopper, confirm_deadline, revents);
    if (wait == Wait::stopped) return SslSession{};
    if (wait == Wait::timeout) break;
  }
  SSL_set_app_data(ssl.get(), nullptr);
  return ssl;
}

}  // namespace kumasim::shipper
