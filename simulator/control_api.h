// The control API (docs/api.md): HTTP/1.1 with Boost.Beast on its own I/O
// thread. handle() is the whole routing table, a plain function of a request,
// so that it is tested without sockets; ApiServer puts it on a socket.
#pragma once

#include "simulator/asio.h"
#include "simulator/server.h"

#include <boost/beast/http.hpp>

#include <memory>
#include <optional>
#include <string>

namespace kumasim::sim {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

class ControlApi {
 public:
  // `token`: when set, every request but /healthz needs "Authorization: Bearer TOKEN".
  ControlApi(Server& server, std::string token);
  Response handle(const Request& request);
  // Set once the API is bound: listed in /api/v1/listeners.
  void set_own_address(std::string address) { own_address_ = std::move(address); }

 private:
  Response events(const Request& request);
  Response expect(const Request& request);
  Response metrics();
  Response listeners();
  Response faults(const Request& request, const std::string& name);

  Server& server_;
  std::string token_;
  std::string own_address_;
};

class ApiServer {
 public:
  // Binds "HOST:PORT" (port 0: ephemeral); throws naming the address on failure.
  ApiServer(ControlApi& api, const std::string& address);
  ~ApiServer();
  std::string address() const;  // as bound, e.g. "127.0.0.1:8089"

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether "HOST:PORT" names a loopback host (127.0.0.0/8, ::1, localhost).
bool is_loopback_address(const std::string& address);

}  // namespace kumasim::sim
