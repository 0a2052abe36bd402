#include "simulator/pki.h"

#include "crypto/openssl_error.h"
#include "crypto/openssl_ptr.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

namespace kumasim::pki {

namespace {

// Every OpenSSL object is owned by a unique_ptr that frees it with its own function.
using openssl::Bignum;
using openssl::Bio;
using openssl::Cert;
using openssl::GeneralNames;
using openssl::Key;
using Extension = openssl::Ptr<X509_EXTENSION, X509_EXTENSION_free>;
using GeneralName = openssl::Ptr<GENERAL_NAME, GENERAL_NAME_free>;
using Asn1String = openssl::Ptr<ASN1_STRING, ASN1_STRING_free>;

// The network-order bytes of an IPv4 or IPv6 literal; empty when it is not one.
std::string ip_bytes(std::string_view text) {
  const std::string s(text);
  std::array<unsigned char, 16> buffer{};
  if (inet_pton(AF_INET, s.c_str(), buffer.data()) == 1) return {buffer.begin(), buffer.begin() + 4};
  if (inet_pton(AF_INET6, s.c_str(), buffer.data()) == 1) return {buffer.begin(), buffer.end()};
  return {};
}

// The usual spelling of an IP literal ("::0001" -> "::1"), so that duplicates are found.
std::string canonical_ip(std::string_view text) {
  const std::string bytes = ip_bytes(text);
  std::array<char, INET6_ADDRSTRLEN> out{};
  inet_ntop(bytes.size() == 4 ? AF_INET : AF_INET6, bytes.data(), out.data(), out.size());
  return out.data();
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
  return std::all_of(label.begin(), label.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; });
}

// A host name of letters, digits, '-' and '_' labels; a leading "*" label is
// a wildcard, which OpenSSL matches only when two labels or more follow it
// ("*.lab" matches nothing). An all-digit last label is refused: no TLD is
// numeric, so such a name is a mistyped IP address ("10.0.0.256").
bool valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  const bool wildcard = name.substr(0, 2) == "*.";
  if (wildcard) name.remove_prefix(2);
  if (wildcard && name.find('.') == std::string_view::npos) return false;
  const auto last = name.substr(name.rfind('.') + 1);
  if (std::all_of(last.begin(), last.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
  for (std::size_t start = 0;;) {
    const auto dot = name.find('.', start);
    if (!valid_label(name.substr(start, dot - start))) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

Error failure(const std::string& what) { return what + ": " + openssl::take_errors(); }

Key new_key() { return Key(EVP_EC_gen("P-256")); }

// Serial numbers are 159 random bits with the top one set: positive, never
// zero, within RFC 5280's 20 octets, and different for every generation so
// that a client never confuses two test CAs' certificates.
bool set_random_serial(X509* cert) {
  Bignum serial(BN_new());
  return serial && BN_rand(serial.get(), 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
         BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert));
}

// Version, serial, validity, subject and public key: what every certificate here has.
Cert new_certificate(EVP_PKEY* key, const char* common_name, int days) {
  Cert cert(X509_new());
  const auto* cn = reinterpret_cast<const unsigned char*>(common_name);
  const bool ok = cert && X509_set_version(cert.get(), X509_VERSION_3) && set_random_serial(cert.get()) &&
                  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) &&
                  X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr) &&
                  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert.get()), "CN", MBSTRING_UTF8, cn, -1, -1, 0) &&
                  X509_set_pubkey(cert.get(), key);
  return ok ? std::move(cert) : nullptr;
}

struct Issuer {
  X509* cert;
  EVP_PKEY* key;
};

// Extensions given in openssl.cnf syntax. The issuer is needed for the
// authorityKeyIdentifier, which copies its subjectKeyIdentifier: the SKI must
// therefore come before the AKI (for the CA, issuer and subject are one).
bool add_extensions(X509* cert, X509* issuer, std::initializer_list<std::pair<int, const char*>> extensions) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    Extension extension(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
    if (!extension || !X509_add_ext(cert, extension.get(), -1)) return false;
  }
  return true;
}

// One SAN entry: an iPAddress (the address's network-order bytes) for an IP
// literal, a dNSName otherwise.
GeneralName general_name(const std::string& name) {
  const std::string ip = ip_bytes(name);
  const std::string& bytes = ip.empty() ? name : ip;
  GeneralName entry(GENERAL_NAME_new());
  Asn1String value(ASN1_STRING_type_new(ip.empty() ? V_ASN1_IA5STRING : V_ASN1_OCTET_STRING));
  if (!entry || !value || !ASN1_STRING_set(value.get(), bytes.data(), static_cast<int>(bytes.size()))) return nullptr;
  GENERAL_NAME_set0_value(entry.get(), ip.empty() ? GEN_DNS : GEN_IPADD, value.release());
  return entry;
}

// The subjectAltName built from values, not from a config string: a name
// can then never be read as extension syntax.
bool add_subject_alt_names(X509* cert, const std::vector<std::string>& names) {
  GeneralNames all(GENERAL_NAMES_new());
  if (!all) return false;
  for (const auto& name : names) {
    GeneralName entry = general_name(name);
    if (!entry || !sk_GENERAL_NAME_push(all.get(), entry.get())) return false;
    entry.release();  // now owned by `all`
  }
  return X509_add1_ext_i2d(cert, NID_subject_alt_name, all.get(), 0, X509V3_ADD_DEFAULT) == 1;
}

bool sign(X509* cert, const Issuer& issuer) {
  return X509_set_issuer_name(cert, X509_get_subject_name(issuer.cert)) && X509_sign(cert, issuer.key, EVP_sha256()) > 0;
}

// pathlen:0: this CA signs end-entity certificates only.
Cert make_ca(EVP_PKEY* key, int days) {
  Cert cert = new_certificate(key, "kumasim test CA", days);
  const bool ok = cert &&
                  add_extensions(cert.get(), cert.get(),
                                 {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                  {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                  {NID_subject_key_identifier, "hash"},
                                  {NID_authority_key_identifier, "keyid:always"}}) &&
                  sign(cert.get(), {cert.get(), key});
  return ok ? std::move(cert) : nullptr;
}

struct Leaf {
  const char* common_name;
  const char* extended_key_usage;  // serverAuth or clientAuth, never both
  std::vector<std::string> names;  // SANs; none for the client
};

// digitalSignature is the only key usage an ECDSA key needs for TLS (ECDHE).
Cert make_leaf(EVP_PKEY* key, const Leaf& leaf, const Issuer& ca, int days) {
  Cert cert = new_certificate(key, leaf.common_name, days);
  const bool ok = cert &&
                  add_extensions(cert.get(), ca.cert,
                                 {{NID_basic_constraints, "critical,CA:FALSE"},
                                  {NID_key_usage, "critical,digitalSignature"},
                                  {NID_ext_key_usage, leaf.extended_key_usage},
                                  {NID_subject_key_identifier, "hash"},
                                  {NID_authority_key_identifier, "keyid:always"}}) &&
                  (leaf.names.empty() || add_subject_alt_names(cert.get(), leaf.names)) && sign(cert.get(), ca);
  return ok ? std::move(cert) : nullptr;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<std::size_t>(size)) : std::string();
}

// Empty on failure: a PEM text is never empty.
std::string cert_pem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  return bio && PEM_write_bio_X509(bio.get(), cert) ? bio_text(bio.get()) : std::string();
}

std::string key_pem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  const bool ok = bio && PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  return ok ? bio_text(bio.get()) : std::string();
}

Error to_pem(X509* cert, EVP_PKEY* key, const char* what, CertificateAndKey& out) {
  out = {cert_pem(cert), key_pem(key)};
  if (out.cert_pem.empty() || out.key_pem.empty()) return failure(std::string("encoding the ") + what + " as PEM");
  return std::nullopt;
}

Error check_options(const Options& options) {
  if (options.days < 1 || options.days > kMaxDays)
    return "certificate validity must be 1 to " + std::to_string(kMaxDays) + " days, not " + std::to_string(options.days);
  for (const auto& name : options.names) {
    if (auto error = check_name(name)) return error;
  }
  return std::nullopt;
}

struct OutputFile {
  std::string_view name;
  const std::string* pem;
  bool secret;
};

std::array<OutputFile, 6> output_files(const Bundle& bundle) {
  return {{{kCaCertFile, &bundle.ca.cert_pem, false},
           {kCaKeyFile, &bundle.ca.key_pem, true},
           {kServerCertFile, &bundle.server.cert_pem, false},
           {kServerKeyFile, &bundle.server.key_pem, true},
           {kClientCertFile, &bundle.client.cert_pem, false},
           {kClientKeyFile, &bundle.client.key_pem, true}}};
}

std::string system_reason(int error) { return std::error_code(error, std::system_category()).message(); }

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// O_NOFOLLOW: a private key is never written through a symbolic link. A
// replaced key file is reset to 0600 whatever mode it had, since O_TRUNC
// keeps the old one.
Error write_file(const std::string& path, const std::string& text, bool secret, bool force) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL);
  Fd file{::open(path.c_str(), flags, secret ? 0600 : 0644)};
  if (file.fd < 0 || (secret && ::fchmod(file.fd, 0600) != 0)) return "cannot write " + path + ": " + system_reason(errno);
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(file.fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return "cannot write " + path + ": " + system_reason(errno);
    done += static_cast<std::size_t>(n);
  }
  const int fd = std::exchange(file.fd, -1);
  if (::close(fd) != 0) return "cannot write " + path + ": " + system_reason(errno);
  return std::nullopt;
}

}  // namespace

bool is_ip_literal(std::string_view text) { return !ip_bytes(text).empty(); }

Error check_name(std::string_view name) {
  if (is_ip_literal(name) || valid_dns_name(name)) return std::nullopt;
  return "invalid certificate name '" + std::string(name) + "': neither an IP address nor a DNS name";
}

std::vector<std::string> server_names(const std::vector<std::string>& extra) {
  std::vector<std::string> names{"127.0.0.1", "::1", "localhost"};
  std::vector<std::string> seen{"127.0.0.1", "::1", "localhost"};  // canonical forms
  for (const auto& name : extra) {
    const std::string key = is_ip_literal(name) ? canonical_ip(name) : lowercase(name);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
    seen.push_back(key);
    names.push_back(is_ip_literal(name) ? key : name);
  }
  return names;
}

Error generate(const Options& options, Bundle& out) {
  if (auto error = check_options(options)) return error;
  ERR_clear_error();  // so that a failure reports its own reasons only
  const Key ca_key = new_key(), server_key = new_key(), client_key = new_key();
  if (!ca_key || !server_key || !client_key) return failure("generating a P-256 key");
  const Cert ca = make_ca(ca_key.get(), options.days);
  if (!ca) return failure("creating the CA certificate");
  const Issuer issuer{ca.get(), ca_key.get()};
  const Cert server = make_leaf(server_key.get(), {"kumasim test server", "serverAuth", server_names(options.names)}, issuer, options.days);
  if (!server) return failure("creating the server certificate");
  const Cert client = make_leaf(client_key.get(), {"kumasim test client", "clientAuth", {}}, issuer, options.days);
  if (!client) return failure("creating the client certificate");
  if (auto error = to_pem(ca.get(), ca_key.get(), "CA", out.ca)) return error;
  if (auto error = to_pem(server.get(), server_key.get(), "server certificate", out.server)) return error;
  return to_pem(client.get(), client_key.get(), "client certificate", out.client);
}

Error write(const Bundle& bundle, const std::string& dir, bool force) {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return "cannot create directory " + dir + ": " + error.message();
  const auto files = output_files(bundle);
  // All six are checked first, so that a refusal leaves the directory as it was.
  for (const auto& file : files) {
    const auto path = (fs::path(dir) / file.name).string();
    if (force || fs::symlink_status(path, error).type() == fs::file_type::not_found) continue;
    if (error) return "cannot check " + path + ": " + error.message();
    return path + " already exists; not replaced without --force";
  }
  for (const auto& file : files) {
    if (auto failed = write_file((fs::path(dir) / file.name).string(), *file.pem, file.secret, force)) return failed;
  }
  return std::nullopt;
}

Error create(const std::string& dir, const Options& options, bool force, Bundle& out) {
  if (auto error = generate(options, out)) return error;
  return write(out, dir, force);
}

// OpenSSL stacks its reasons from the root cause up ("No such file or
// directory", "system lib", "no such file"): the generic "... lib" links and
// repeats are left out.
}  // namespace kumasim::pki
