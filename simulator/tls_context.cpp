#include "simulator/tls_context.h"

#include "crypto/openssl_error.h"

#include "simulator/pki.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdexcept>

namespace kumasim::tls {

namespace ssl = boost::asio::ssl;

namespace {

// OpenSSL is called directly rather than through asio's context methods:
// asio's exceptions name neither the file nor the reason clearly.
[[noreturn]] void fail(const std::string& what) { throw std::runtime_error("TLS: " + what + ": " + openssl::take_errors()); }

// An encrypted key would otherwise make OpenSSL prompt on the terminal. With
// no password it fails to load, and the reason starts with "problems getting
// password" rather than only "bad decrypt".
int no_password(char*, int, int, void*) {
  ERR_raise(ERR_LIB_PEM, PEM_R_PROBLEMS_GETTING_PASSWORD);
  return 0;
}

// TLS 1.0 and 1.1 are obsolete and neither KUMA nor DKP needs them;
// compression leaks plaintext (CRIME) and a log stream never renegotiates.
void harden(ssl::context& context) {
  SSL_CTX* native = context.native_handle();
  ERR_clear_error();  // so that a failure reports its own reasons only
  if (SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) fail("setting TLS 1.2 as the minimum");
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_default_passwd_cb(native, no_password);
}

void require_file(const std::string& path, const char* what) {
  if (path.empty()) throw std::runtime_error(std::string("TLS: no ") + what + " file given");
}

void use_certificate(ssl::context& context, const std::string& cert_file, const std::string& key_file) {
  require_file(cert_file, "certificate");
  require_file(key_file, "private key");
  SSL_CTX* native = context.native_handle();
  if (SSL_CTX_use_certificate_chain_file(native, cert_file.c_str()) != 1) fail("certificate " + cert_file);
  // Loading the key also checks it against the certificate ("key values mismatch").
  if (SSL_CTX_use_PrivateKey_file(native, key_file.c_str(), SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(native) != 1)
    fail("private key " + key_file + " (for certificate " + cert_file + ")");
}

void trust(ssl::context& context, const std::string& ca_file) {
  require_file(ca_file, "CA");
  if (SSL_CTX_load_verify_locations(context.native_handle(), ca_file.c_str(), nullptr) != 1) fail("CA " + ca_file);
}

// Mutual TLS. The CA's name is sent in the CertificateRequest so that a client
// holding several certificates picks the right one; OpenSSL checks that the
// client certificate is meant for client authentication (its EKU). A session
// id context is required once peers are verified, or a resumed session fails.
void require_client_certificate(ssl::context& context, const std::string& ca_file) {
  trust(context, ca_file);
  SSL_CTX* native = context.native_handle();
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str());
  if (names == nullptr) fail("CA " + ca_file);
  SSL_CTX_set_client_CA_list(native, names);  // takes ownership
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  static constexpr unsigned char kSessionContext[] = "kumasim";
  if (SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1) != 1) fail("session id context");
}

}  // namespace

ssl::context make_server_context(const TlsSettings& settings) {
  ssl::context context(ssl::context::tls_server);
  harden(context);
  use_certificate(context, settings.cert_file, settings.key_file);
  if (settings.mode == TlsMode::verify) require_client_certificate(context, settings.ca_file);
  return context;
}

ssl::context make_client_context(const std::string& ca_file, const std::optional<CertificateFiles>& client) {
  ssl::context context(ssl::context::tls_client);
  harden(context);
  trust(context, ca_file);
  SSL_CTX_set_verify(context.native_handle(), SSL_VERIFY_PEER, nullptr);
  if (client) use_certificate(context, client->cert_file, client->key_file);
  return context;
}

// An empty name would switch host verification off: it is refused. Partial
// wildcards ("a*.example") match nothing, as RFC 6125 recommends.
void set_server_host(SSL* ssl, const std::string& host) {
  if (host.empty()) throw std::runtime_error("TLS: no server host name to verify");
  ERR_clear_error();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (pki::is_ip_literal(host)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) != 1) fail("expected server address " + host);
    return;
  }
  if (X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) != 1) fail("expected server name '" + host + "'");
  if (SSL_set_tlsext_host_name(ssl, host.c_str()) != 1) fail("server name indication " + host);
}

}  // namespace kumasim::tls
