// A tiny blocking HTTP/1.1 client for the API of a `kumasim serve` child
// process: one request a connection, no TLS, no token.
#pragma once

#include "simulator/asio.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace kumasim::testing {

// "HOST:PORT" (IPv4) as an endpoint.
inline asio::ip::tcp::endpoint endpoint(const std::string& address) {
  const auto colon = address.rfind(':');
  return {asio::ip::make_address(address.substr(0, colon)),
          static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))};
}

// One HTTP request to `api` ("HOST:PORT"); returns status and body.
inline std::pair<unsigned, std::string> http_request(const std::string& api, boost::beast::http::verb verb,
                                                     const std::string& target) {
  namespace http = boost::beast::http;
  asio::io_context io;
  boost::beast::tcp_stream stream(io);
  stream.connect(endpoint(api));
  http::request<http::string_body> request(verb, target, 11);
  request.set(http::field::host, api);
  http::write(stream, request);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return {response.result_int(), response.body()};
}

// GET `target`; returns status and body.
inline std::pair<unsigned, std::string> http_get(const std::string& api, const std::string& target) {
  return http_request(api, boost::beast::http::verb::get, target);
}

}  // namespace kumasim::testing
