// Loopback receivers for the delivery tests: a TCP (optionally TLS) stream
// receiver that can refuse connections, close them mid-stream or come back
// on the same port, and a UDP datagram receiver. Each keeps what it got for
// the test to compare; the tests wait on them with eventually().
#pragma once

#include "crypto/openssl_ptr.h"
#include "simulator/pki.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace kumasim::testing {

using SslContext = openssl::Ptr<SSL_CTX, SSL_CTX_free>;

// A TLS server context from in-memory PEM; with `client_ca`, clients must
// present a certificate signed by it.
inline SslContext server_tls(const pki::Bundle& bundle, const std::string& client_ca = {}) {
  SslContext context(SSL_CTX_new(TLS_server_method()));
  openssl::Bio cert_bio(BIO_new_mem_buf(bundle.server.cert_pem.data(), static_cast<int>(bundle.server.cert_pem.size())));
  openssl::Bio key_bio(BIO_new_mem_buf(bundle.server.key_pem.data(), static_cast<int>(bundle.server.key_pem.size())));
  openssl::Cert cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  openssl::Key key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!cert || !key || SSL_CTX_use_certificate(context.get(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(context.get(), key.get()) != 1)
    throw std::runtime_error("test server certificate");
  if (!client_ca.empty()) {
    openssl::Bio ca_bio(BIO_new_mem_buf(client_ca.data(), static_cast<int>(client_ca.size())));
    openssl::Cert ca(PEM_read_bio_X509(ca_bio.get(), nullptr, nullptr, nullptr));
    if (!ca || X509_STORE_add_cert(SSL_CTX_get_cert_store(context.get()), ca.get()) != 1)
      throw std::runtime_error("test client CA");
    SSL_CTX_set_verify(context.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return context;
}

// The client key of `bundle` as encrypted PKCS#8 ("BEGIN ENCRYPTED PRIVATE KEY").
inline std::string encrypted_key(const std::string& key_pem, const std::string& password) {
  openssl::Bio in(BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  openssl::Key key(PEM_read_bio_PrivateKey(in.get(), nullptr, nullptr, nullptr));
  openssl::Bio out(BIO_new(BIO_s_mem()));
  if (!key || PEM_write_bio_PKCS8PrivateKey(out.get(), key.get(), EVP_aes_256_cbc(), nullptr, 0, nullptr,
                                            const_cast<char*>(password.c_str())) != 1)
    throw std::runtime_error("encrypting the test key");
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// Splits a stream at `terminator`; an unterminated tail is left out.
inline std::vector<std::string> split(const std::string& stream, char terminator) {
  std::vector<std::string> parts;
  std::size_t from = 0;
  for (std::size_t at; (at = stream.find(terminator, from)) != std::string::npos; from = at + 1)
    parts.push_back(stream.substr(from, at - from));
  return parts;
}

class TcpReceiver {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;       // 0: an ephemeral port
    SSL_CTX* tls = nullptr;       // not owned
    bool listening = true;        // false: bound only, so connections are refused until listen()
    std::size_t close_after = 0;  // close each connection once it has brought this many terminators (0: never)
    // Plain TCP: shut down the sending side (FIN) of each connection once it
    // has brought this many terminators, and read on until the sender closes.
    std::size_t half_close_after = 0;
    char terminator = '\n';
  };

  explicit TcpReceiver(Options options) : options_(std::move(options)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(options_.port);
    ::inet_pton(AF_INET, options_.host.c_str(), &address.sin_addr);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      throw std::runtime_error("bind: " + std::string(std::strerror(errno)));
    socklen_t size = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    if (options_.listening) listen();
  }
  ~TcpReceiver() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listener_);
  }

  void listen() {
    ::listen(listener_, 16);
    thread_ = std::thread([this] { serve(); });
  }
  std::uint16_t port() const { return port_; }
  std::string address() const { return options_.host + ":" + std::to_string(port_); }
  std::string data() const {
    std::lock_guard lock(mutex_);
    return data_;
  }
  std::vector<std::string> messages() const { return split(data(), options_.terminator); }
  int connections() const { return connections_; }
  // The SNI of the last TLS connection ("" without one).
  std::string server_name() const {
    std::lock_guard lock(mutex_);
    return server_name_;
  }
  int closed_by_us() const { return closed_by_us_; }
  int handshake_failures() const { return handshake_failures_; }

 private:
  void serve() {
    while (!stop_) {
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 20) != 1) continue;
      const int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval timeout{0, 20000};  // reads wake up to notice stop_
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      ++connections_;
      receive(fd);
      ::close(fd);
    }
  }

  void receive(int fd) {
    openssl::Ptr<SSL, SSL_free> ssl;
    if (options_.tls != nullptr) {
      ssl.reset(SSL_new(options_.tls));
      SSL_set_fd(ssl.get(), fd);
      int result;
      while ((result = SSL_accept(ssl.get())) != 1) {
        if (stop_ || SSL_get_error(ssl.get(), result) != SSL_ERROR_WANT_READ) {
          ++handshake_failures_;
          ERR_clear_error();
          return;
        }
      }
      const char* name = SSL_get_servername(ssl.get(), TLSEXT_NAMETYPE_host_name);
      std::lock_guard lock(mutex_);
      server_name_ = name != nullptr ? name : "";
    }
    std::size_t terminators = 0;
    bool half_closed = false;
    char chunk[16384];
    while (!stop_) {
      ssize_t n;
      if (ssl) {
        const int result = SSL_read(ssl.get(), chunk, sizeof chunk);
        n = result > 0 ? result : (SSL_get_error(ssl.get(), result) == SSL_ERROR_WANT_READ ? -1 : 0);
        ERR_clear_error();
      } else {
        n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) n = 0;
      }
      if (n == 0) return;  // the sender closed (or broke) the connection
      if (n < 0) continue;
      {
        std::lock_guard lock(mutex_);
        data_.append(chunk, static_cast<std::size_t>(n));
      }
      terminators += static_cast<std::size_t>(std::count(chunk, chunk + n, options_.terminator));
      if (options_.close_after != 0 && terminators >= options_.close_after) {
        ++closed_by_us_;
        return;
      }
      if (options_.half_close_after != 0 && terminators >= options_.half_close_after && !half_closed) {
        half_closed = true;
        ++closed_by_us_;
        ::shutdown(fd, SHUT_WR);
      }
    }
  }

  const Options options_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::string data_;
  std::string server_name_;
  std::atomic<int> connections_{0}, closed_by_us_{0}, handshake_failures_{0};
};

class UdpReceiver {
 public:
  UdpReceiver() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t size = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size);
    port_ = ntohs(address.sin_port);
    const int buffer = 8 * 1024 * 1024;  // a burst of test datagrams must not overflow it
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    thread_ = std::thread([this] { serve(); });
  }
  ~UdpReceiver() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::uint16_t port() const { return port_; }
  std::vector<std::string> datagrams() const {
    std::lock_guard lock(mutex_);
    return datagrams_;
  }

 private:
  void serve() {
    std::vector<char> chunk(70000);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) != 1) continue;
      const ssize_t n = ::recv(fd_, chunk.data(), chunk.size(), 0);
      if (n < 0) continue;
      std::lock_guard lock(mutex_);
      datagrams_.emplace_back(chunk.data(), static_cast<std::size_t>(n));
    }
  }

  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> datagrams_;
};

}  // namespace kumasim::testing
