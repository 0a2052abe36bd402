#include "simulator/pki.h"
#include "crypto/openssl_ptr.h"
#include "simulator/tls_context.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <array>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <future>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace kumasim::pki {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;

using openssl::Bio;
using openssl::Cert;
using openssl::Key;
using Store = openssl::Ptr<X509_STORE, X509_STORE_free>;
using StoreCtx = openssl::Ptr<X509_STORE_CTX, X509_STORE_CTX_free>;
using Names = openssl::GeneralNames;

// A fresh directory under the system's temporary one, removed with its contents.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "kumasim-pki-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(std::string_view name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Bundle generated(const Options& options = {}) {
  Bundle bundle;
  const Error error = generate(options, bundle);
  EXPECT_FALSE(error) << *error;
  return bundle;
}

Cert parse_cert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

Key parse_key(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return Key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// X509_V_OK when `pem` chains to `ca_pem` for the given purpose (X509_PURPOSE_SSL_SERVER, ...).
int verify(const std::string& pem, const std::string& ca_pem, int purpose) {
  const Cert cert = parse_cert(pem), ca = parse_cert(ca_pem);
  const Store store(X509_STORE_new());
  const StoreCtx ctx(X509_STORE_CTX_new());
  if (!cert || !ca || !store || !ctx || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr) != 1 || X509_STORE_CTX_set_purpose(ctx.get(), purpose) != 1)
    return -1;
  return X509_verify_cert(ctx.get()) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx.get());
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  std::array<char, INET6_ADDRSTRLEN> out{};
  const int family = ASN1_STRING_length(ip) == 4 ? AF_INET : AF_INET6;
  inet_ntop(family, ASN1_STRING_get0_data(ip), out.data(), out.size());
  return out.data();
}

// "DNS:name" and "IP:address", in certificate order.
std::vector<std::string> subject_alt_names(const std::string& pem) {
  const Cert cert = parse_cert(pem);
  const Names names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const auto* text = reinterpret_cast<const char*>(ASN1_STRING_get0_data(name->d.dNSName));
      out.push_back("DNS:" + std::string(text, static_cast<std::size_t>(ASN1_STRING_length(name->d.dNSName))));
    } else {
      out.push_back(name->type == GEN_IPADD ? "IP:" + ip_text(name->d.iPAddress) : "other");
    }
  }
  return out;
}

std::string common_name(X509_NAME* name) {
  std::array<char, 256> text{};
  X509_NAME_get_text_by_NID(name, NID_commonName, text.data(), static_cast<int>(text.size()));
  return text.data();
}

void free_string(char* p) { OPENSSL_free(p); }  // OPENSSL_free is a macro

std::string serial(const std::string& pem) {
  const Cert cert = parse_cert(pem);
  const openssl::Bignum bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  const openssl::Ptr<char, free_string> hex(BN_bn2hex(bn.get()));
  return hex.get();
}

// Seconds from now to `t` (negative in the past).
long long seconds_from_now(const ASN1_TIME* t) {
  std::tm tm{};
  EXPECT_EQ(ASN1_TIME_to_tm(t, &tm), 1);
  return static_cast<long long>(timegm(&tm)) - static_cast<long long>(std::time(nullptr));
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

unsigned permissions(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

const std::vector<std::string_view> kAllFiles{kCaCertFile,     kCaKeyFile,     kServerCertFile,
                                              kServerKeyFile, kClientCertFile, kClientKeyFile};

// ---- the certificates ----

TEST(Pki, ServerAndClientChainToTheCa) {
  const Bundle b = generated();
  EXPECT_EQ(verify(b.server.cert_pem, b.ca.cert_pem, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_EQ(verify(b.client.cert_pem, b.ca.cert_pem, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
  EXPECT_EQ(verify(b.ca.cert_pem, b.ca.cert_pem, X509_PURPOSE_ANY), X509_V_OK);
}

TEST(Pki, CertificatesDoNotChainToAnotherCa) {
  const Bundle a = generated(), b = generated();
  EXPECT_NE(verify(a.server.cert_pem, b.ca.cert_pem, X509_PURPOSE_SSL_SERVER), X509_V_OK);
  EXPECT_NE(verify(a.client.cert_pem, b.ca.cert_pem, X509_PURPOSE_SSL_CLIENT), X509_V_OK);
}

TEST(Pki, EachCertificateServesOnlyItsPurpose) {
  const Bundle b = generated();
  EXPECT_EQ(verify(b.server.cert_pem, b.ca.cert_pem, X509_PURPOSE_SSL_CLIENT), X509_V_ERR_INVALID_PURPOSE);
  EXPECT_EQ(verify(b.client.cert_pem, b.ca.cert_pem, X509_PURPOSE_SSL_SERVER), X509_V_ERR_INVALID_PURPOSE);
  const Cert server = parse_cert(b.server.cert_pem), client = parse_cert(b.client.cert_pem);
  EXPECT_EQ(X509_get_extended_key_usage(server.get()), static_cast<uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(X509_get_extended_key_usage(client.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
}

TEST(Pki, DefaultServerNamesAreTheLoopbackAddressesAndLocalhost) {
  const Bundle b = generated();
  EXPECT_EQ(subject_alt_names(b.server.cert_pem), (std::vector<std::string>{"IP:127.0.0.1", "IP:::1", "DNS:localhost"}));
  EXPECT_TRUE(subject_alt_names(b.client.cert_pem).empty());
}

TEST(Pki, ExtraNamesFollowTheDefaultsOnceEach) {
  const Bundle b = generated({{"kuma.example", "10.1.2.3", "fe80::1", "LOCALHOST", "::0001", "*.lab.example", "kuma.example"}});
  EXPECT_EQ(subject_alt_names(b.server.cert_pem),
            (std::vector<std::string>{"IP:127.0.0.1", "IP:::1", "DNS:localhost", "DNS:kuma.example", "IP:10.1.2.3", "IP:fe80::1",
                                      "DNS:*.lab.example"}));
}

TEST(Pki, RefusesNamesThatAreNeitherDnsNorIp) {
  for (const char* bad : {"", "a b", "kuma,example", "-kuma.example", "a..b", "10.0.0.256", "1.2.3", "a*.example",
                          "DNS:x", "kuma.example.", "*.lab", "*"}) {
    Bundle b;
    const Error error = generate({{bad}}, b);
    ASSERT_TRUE(error) << bad;
    EXPECT_NE(error->find(std::string("'") + bad + "'"), std::string::npos) << *error;
  }
  EXPECT_FALSE(check_name("kuma-1.example"));
  EXPECT_FALSE(check_name("2001:db8::5"));
}

TEST(Pki, RefusesValidityOutsideOneDayToAHundredYears) {
  Bundle b;
  EXPECT_TRUE(generate({{}, 0}, b));
  EXPECT_TRUE(generate({{}, kMaxDays + 1}, b));
}

TEST(Pki, CaIsACaAndLeavesAreNot) {
  const Bundle b = generated();
  const Cert ca = parse_cert(b.ca.cert_pem), server = parse_cert(b.server.cert_pem), client = parse_cert(b.client.cert_pem);
  EXPECT_EQ(X509_check_ca(ca.get()), 1);
  EXPECT_EQ(X509_get_key_usage(ca.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  for (X509* leaf : {server.get(), client.get()}) {
    EXPECT_EQ(X509_check_ca(leaf), 0);
    EXPECT_EQ(X509_get_key_usage(leaf), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
    EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf), X509_get_subject_name(ca.get())), 0);
    ASSERT_NE(X509_get0_authority_key_id(leaf), nullptr);
    EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf), X509_get0_subject_key_id(ca.get())), 0);
    EXPECT_NE(X509_get0_subject_key_id(leaf), nullptr);
  }
  EXPECT_EQ(common_name(X509_get_subject_name(ca.get())), "kumasim test CA");
}

TEST(Pki, KeysArePkcs8P256AndMatchTheirCertificates) {
  const Bundle b = generated();
  for (const CertificateAndKey* pair : {&b.ca, &b.server, &b.client}) {
    EXPECT_EQ(pair->key_pem.rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
    const Key key = parse_key(pair->key_pem);
    const Cert cert = parse_cert(pair->cert_pem);
    ASSERT_TRUE(key && cert);
    std::array<char, 64> group{};
    ASSERT_EQ(EVP_PKEY_get_group_name(key.get(), group.data(), group.size(), nullptr), 1);
    EXPECT_STREQ(group.data(), "prime256v1");
    EXPECT_EQ(X509_check_private_key(cert.get(), key.get()), 1);
  }
}

TEST(Pki, ValidFromAnHourAgoForTheGivenDays) {
  const Bundle b = generated({{}, 30});
  const Cert server = parse_cert(b.server.cert_pem);
  EXPECT_NEAR(seconds_from_now(X509_get0_notBefore(server.get())), -3600, 60);
  EXPECT_NEAR(seconds_from_now(X509_get0_notAfter(server.get())), 30 * 86400, 60);
  const Cert ca = parse_cert(generated().ca.cert_pem);
  EXPECT_NEAR(seconds_from_now(X509_get0_notAfter(ca.get())), 3650LL * 86400, 60);
}

TEST(Pki, SerialsAreRandom) {
  const Bundle a = generated(), b = generated();
  EXPECT_NE(serial(a.ca.cert_pem), serial(b.ca.cert_pem));
  EXPECT_NE(serial(a.server.cert_pem), serial(a.client.cert_pem));
  EXPECT_EQ(serial(a.server.cert_pem).size(), 40u);  // 159 bits with the top one set: 20 octets
}

// ---- the files ----

TEST(PkiFiles, WritesSixFilesWithPrivateKeysOwnerOnly) {
  const TempDir dir;
  Bundle b;
  const Error error = create(dir.file("pki"), {}, false, b);
  ASSERT_FALSE(error) << *error;
  const std::string base = dir.file("pki") + "/";
  EXPECT_EQ(read_text(base + "ca.pem"), b.ca.cert_pem);
  EXPECT_EQ(read_text(base + "ca-key.pem"), b.ca.key_pem);
  EXPECT_EQ(read_text(base + "server.pem"), b.server.cert_pem);
  EXPECT_EQ(read_text(base + "server-key.pem"), b.server.key_pem);
  EXPECT_EQ(read_text(base + "client.pem"), b.client.cert_pem);
  EXPECT_EQ(read_text(base + "client-key.pem"), b.client.key_pem);
  for (const char* key : {"ca-key.pem", "server-key.pem", "client-key.pem"}) EXPECT_EQ(permissions(base + key), 0600u) << key;
}

TEST(PkiFiles, RefusesToOverwriteAndWritesNothing) {
  const TempDir dir;
  write_text(dir.file("server.pem"), "mine");
  Bundle b;
  const Error error = create(dir.path().string(), {}, false, b);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find(dir.file("server.pem")), std::string::npos) << *error;
  EXPECT_NE(error->find("--force"), std::string::npos) << *error;
  EXPECT_EQ(read_text(dir.file("server.pem")), "mine");
  for (auto name : kAllFiles) {
    if (name != kServerCertFile) {
      EXPECT_FALSE(fs::exists(dir.file(name))) << name;
    }
  }
}

TEST(PkiFiles, ForceReplacesAndTightensKeyModes) {
  const TempDir dir;
  ASSERT_FALSE(write(generated(), dir.path().string(), false));
  fs::permissions(dir.file("server-key.pem"), fs::perms(0644));
  const Bundle b = generated();
  const Error error = write(b, dir.path().string(), true);
  ASSERT_FALSE(error) << *error;
  EXPECT_EQ(read_text(dir.file("server-key.pem")), b.server.key_pem);
  EXPECT_EQ(permissions(dir.file("server-key.pem")), 0600u);
}

TEST(PkiFiles, WriteErrorsNameThePath) {
  const TempDir dir;
  write_text(dir.file("plain"), "x");
  const Error error = write(generated(), dir.file("plain"), false);  // a file where the directory should be
  ASSERT_TRUE(error);
  EXPECT_NE(error->find(dir.file("plain")), std::string::npos) << *error;
}

// ---- TLS over loopback ----

// One TLS connection served on 127.0.0.1 at an ephemeral port by its own
// thread: accept, handshake, send "hello\n", close. Its handshake error is
// the result.
class OneShotServer {
 public:
  explicit OneShotServer(ssl::context& context) : context_(context), acceptor_(io_, {asio::ip::address_v4::loopback(), 0}) {
    port_ = acceptor_.local_endpoint().port();
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
    thread_ = std::thread([this] { io_.run(); });
  }
  ~OneShotServer() {
    io_.stop();
    thread_.join();
  }
  OneShotServer(const OneShotServer&) = delete;
  OneShotServer& operator=(const OneShotServer&) = delete;

  unsigned short port() const { return port_; }

  // Bounded wait: a test that goes wrong fails instead of hanging.
  error_code handshake_result() {
    auto future = result_.get_future();
    if (future.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
      ADD_FAILURE() << "the server never finished its handshake";
      return asio::error::timed_out;
    }
    return future.get();
  }

 private:
  void on_accept(error_code ec, tcp::socket socket) {
    if (ec) return finish(ec);
    stream_.emplace(std::move(socket), context_);
    stream_->async_handshake(ssl::stream_base::server, [this](error_code handshake) {
      if (handshake) return finish(handshake);
      asio::async_write(*stream_, asio::buffer(kGreeting, 6), [this](error_code, std::size_t) {
        // close_notify, then the client's close ends the connection.
        stream_->async_shutdown([this](error_code) { finish({}); });
      });
    });
  }

  void finish(error_code handshake) {
    if (stream_) stream_->lowest_layer().close();
    result_.set_value(handshake);
  }

  static constexpr char kGreeting[] = "hello\n";
  ssl::context& context_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::optional<ssl::stream<tcp::socket>> stream_;
  std::promise<error_code> result_;
  std::thread thread_;
};

struct ClientResult {
  error_code error;  // of the handshake, or of the first read
  std::string line;  // what the server sent after its handshake
};

ClientResult connect_and_read(ssl::context& context, unsigned short port, const std::string& host) {
  asio::io_context io;
  ssl::stream<tcp::socket> stream(io, context);
  tls::set_server_host(stream.native_handle(), host);
  ClientResult result;
  stream.next_layer().connect({asio::ip::address_v4::loopback(), port}, result.error);
  if (!result.error) stream.handshake(ssl::stream_base::client, result.error);
  // TLS 1.3: a server rejecting the client certificate does so after the
  // client's handshake is complete, so the refusal arrives with the first read.
  if (!result.error) asio::read_until(stream, asio::dynamic_buffer(result.line), '\n', result.error);
  return result;
}

class TlsHandshake : public ::testing::Test {
 protected:
  void SetUp() override {
    const Error error = create(dir_.path().string(), {}, false, bundle_);
    ASSERT_FALSE(error) << *error;
  }
  std::string file(std::string_view name) const { return dir_.file(name); }
  tls::TlsSettings settings(tls::TlsMode mode) const {
    return {mode, file(kServerCertFile), file(kServerKeyFile), file(kCaCertFile)};
  }
  tls::CertificateFiles client_files() const { return {file(kClientCertFile), file(kClientKeyFile)}; }

  // One connection; returns what the client saw and stores the server's handshake error.
  ClientResult exchange(tls::TlsMode mode, ssl::context client, const std::string& host = "localhost") {
    ssl::context server_context = tls::make_server_context(settings(mode));
    OneShotServer server(server_context);
    ClientResult result = connect_and_read(client, server.port(), host);
    server_error_ = server.handshake_result();
    return result;
  }

  TempDir dir_;
  Bundle bundle_;
  error_code server_error_;
};

TEST_F(TlsHandshake, EncryptModeAcceptsAClientWithoutCertificate) {
  const ClientResult got = exchange(tls::TlsMode::encrypt, tls::make_client_context(file(kCaCertFile)));
  EXPECT_FALSE(got.error) << got.error.message();
  EXPECT_FALSE(server_error_) << server_error_.message();
  EXPECT_EQ(got.line, "hello\n");
}

TEST_F(TlsHandshake, VerifyModeRefusesAClientWithoutCertificate) {
  const ClientResult got = exchange(tls::TlsMode::verify, tls::make_client_context(file(kCaCertFile)));
  EXPECT_EQ(got.error.category(), asio::error::get_ssl_category()) << got.error.message();  // the server's alert
  EXPECT_EQ(got.line, "");
  EXPECT_EQ(server_error_.category(), asio::error::get_ssl_category());
  EXPECT_NE(server_error_.message().find("peer did not return a certificate"), std::string::npos) << server_error_.message();
}

TEST_F(TlsHandshake, VerifyModeAcceptsTheClientCertificate) {
  const ClientResult got = exchange(tls::TlsMode::verify, tls::make_client_context(file(kCaCertFile), client_files()));
  EXPECT_FALSE(got.error) << got.error.message();
  EXPECT_FALSE(server_error_) << server_error_.message();
  EXPECT_EQ(got.line, "hello\n");
}

TEST_F(TlsHandshake, VerifyModeRefusesACertificateNotMadeForClients) {
  const tls::CertificateFiles server_pair{file(kServerCertFile), file(kServerKeyFile)};
  const ClientResult got = exchange(tls::TlsMode::verify, tls::make_client_context(file(kCaCertFile), server_pair));
  EXPECT_TRUE(got.error);
  EXPECT_NE(server_error_.message().find("certificate verify failed"), std::string::npos) << server_error_.message();
}

TEST_F(TlsHandshake, VerifyModeRefusesAClientOfAnotherCa) {
  const TempDir other;
  Bundle b;
  ASSERT_FALSE(create(other.path().string(), {}, false, b));
  const tls::CertificateFiles foreign{other.file(kClientCertFile), other.file(kClientKeyFile)};
  const ClientResult got = exchange(tls::TlsMode::verify, tls::make_client_context(file(kCaCertFile), foreign));
  EXPECT_TRUE(got.error);
  EXPECT_NE(server_error_.message().find("certificate verify failed"), std::string::npos) << server_error_.message();
}

TEST_F(TlsHandshake, ClientAcceptsEveryNameOfTheServerCertificate) {
  for (const char* host : {"localhost", "127.0.0.1", "::1"}) {
    const ClientResult got = exchange(tls::TlsMode::encrypt, tls::make_client_context(file(kCaCertFile)), host);
    EXPECT_FALSE(got.error) << host << ": " << got.error.message();
    EXPECT_EQ(got.line, "hello\n") << host;
  }
}

TEST_F(TlsHandshake, ClientAcceptsExtraNamesGiven) {
  const Error error = create(dir_.path().string(), {{"kuma.example", "*.lab.example", "10.0.0.5"}}, true, bundle_);
  ASSERT_FALSE(error) << *error;
  for (const char* host : {"kuma.example", "x.lab.example", "10.0.0.5"}) {
    const ClientResult got = exchange(tls::TlsMode::encrypt, tls::make_client_context(file(kCaCertFile)), host);
    EXPECT_FALSE(got.error) << host << ": " << got.error.message();
  }
  const ClientResult deeper = exchange(tls::TlsMode::encrypt, tls::make_client_context(file(kCaCertFile)), "a.x.lab.example");
  EXPECT_TRUE(deeper.error);  // a wildcard covers one label
}

TEST_F(TlsHandshake, ClientRefusesAnotherName) {
  for (const char* host : {"wrong.example", "127.0.0.2"}) {
    const ClientResult got = exchange(tls::TlsMode::encrypt, tls::make_client_context(file(kCaCertFile)), host);
    EXPECT_NE(got.error.message().find("certificate verify failed"), std::string::npos) << host << ": " << got.error.message();
    EXPECT_TRUE(server_error_) << host;
  }
}

TEST_F(TlsHandshake, ClientRefusesAServerOfAnotherCa) {
  const TempDir other;
  Bundle b;
  ASSERT_FALSE(create(other.path().string(), {}, false, b));
  const ClientResult got = exchange(tls::TlsMode::encrypt, tls::make_client_context(other.file(kCaCertFile)));
  EXPECT_NE(got.error.message().find("certificate verify failed"), std::string::npos) << got.error.message();
}

TEST_F(TlsHandshake, ContextsRequireTls12WithoutCompressionOrRenegotiation) {
  for (auto mode : {tls::TlsMode::encrypt, tls::TlsMode::verify}) {
    ssl::context context = tls::make_server_context(settings(mode));
    EXPECT_EQ(SSL_CTX_get_min_proto_version(context.native_handle()), TLS1_2_VERSION);
    const uint64_t options = SSL_CTX_get_options(context.native_handle());
    EXPECT_EQ(options & SSL_OP_NO_COMPRESSION, SSL_OP_NO_COMPRESSION);
    EXPECT_EQ(options & SSL_OP_NO_RENEGOTIATION, SSL_OP_NO_RENEGOTIATION);
  }
  ssl::context client = tls::make_client_context(file(kCaCertFile));
  EXPECT_EQ(SSL_CTX_get_min_proto_version(client.native_handle()), TLS1_2_VERSION);
}

// ---- configuration errors name the file and the reason ----

std::string server_context_error(const tls::TlsSettings& settings) {
  try {
    tls::make_server_context(settings);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST_F(TlsHandshake, MissingCertificateFileIsNamed) {
  auto s = settings(tls::TlsMode::encrypt);
  s.cert_file = file("missing.pem");
  const std::string message = server_context_error(s);
  EXPECT_NE(message.find(file("missing.pem")), std::string::npos) << message;
  EXPECT_NE(message.find("No such file"), std::string::npos) << message;
}

TEST_F(TlsHandshake, KeyOfAnotherCertificateIsNamed) {
  auto s = settings(tls::TlsMode::encrypt);
  s.key_file = file(kClientKeyFile);
  const std::string message = server_context_error(s);
  EXPECT_NE(message.find(file(kClientKeyFile)), std::string::npos) << message;
  EXPECT_NE(message.find("key values mismatch"), std::string::npos) << message;
}

TEST_F(TlsHandshake, VerifyModeNeedsAReadableCa) {
  auto s = settings(tls::TlsMode::verify);
  s.ca_file.clear();
  EXPECT_NE(server_context_error(s).find("no CA file"), std::string::npos) << server_context_error(s);
  write_text(file("garbage.pem"), "not a certificate\n");
  s.ca_file = file("garbage.pem");
  const std::string message = server_context_error(s);
  EXPECT_NE(message.find(file("garbage.pem")), std::string::npos) << message;
}

TEST_F(TlsHandshake, CertificateFileThatIsNotPemIsNamed) {
  auto s = settings(tls::TlsMode::encrypt);
  s.cert_file = file(kServerKeyFile);
  const std::string message = server_context_error(s);
  EXPECT_NE(message.find(file(kServerKeyFile)), std::string::npos) << message;
  EXPECT_NE(message.find("no start line"), std::string::npos) << message;
}

// The default password callback would prompt on the terminal and block a test run.
TEST_F(TlsHandshake, EncryptedKeyFailsWithoutPrompting) {
  const Key key = parse_key(bundle_.server.key_pem);
  const Bio bio(BIO_new(BIO_s_mem()));
  ASSERT_EQ(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), EVP_aes_256_cbc(), "secret", 6, nullptr, nullptr), 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  write_text(file("encrypted-key.pem"), std::string(data, static_cast<std::size_t>(size)));
  auto s = settings(tls::TlsMode::encrypt);
  s.key_file = file("encrypted-key.pem");
  const std::string message = server_context_error(s);
  EXPECT_NE(message.find(file("encrypted-key.pem")), std::string::npos) << message;
  EXPECT_NE(message.find("problems getting password"), std::string::npos) << message;
}

}  // namespace
}  // namespace kumasim::pki
