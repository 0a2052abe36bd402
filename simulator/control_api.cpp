#include "simulator/control_api.h"

#include "simulator/expect.h"

#include <boost/beast/core.hpp>

#include <algorithm>
#include <charconv>
#include <set>
#include <thread>

namespace kumasim::sim {
namespace {

namespace beast = boost::beast;
using asio::ip::tcp;

Response reply(const Request& request, http::status status, std::string body,
               std::string_view type = "application/json") {
  Response response(status, request.version());
  response.set(http::field::server, "kumasim");
  response.set(http::field::content_type, boost::beast::string_view(type.data(), type.size()));
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

Response reply_json(const Request& request, const nlohmann::json& body, http::status status = http::status::ok) {
  return reply(request, status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

Response error(const Request& request, http::status status, const std::string& message) {
  return reply_json(request, {{"error", message}}, status);
}

// The value of `name` in the query string, if present.
std::optional<std::string> query_param(std::string_view target, std::string_view name) {
  const auto q = target.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::uint64_t> to_number(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Reads ?listener=&since=&limit=&ok=; an error message names the bad parameter.
std::variant<EventQuery, std::string> read_query(std::string_view target) {
  EventQuery query;
  if (auto listener = query_param(target, "listener")) query.listener = *listener;
  for (const auto& [name, field] : {std::pair{"since", &query.since}}) {
    if (auto text = query_param(target, name)) {
      const auto n = to_number(*text);
      if (!n) return std::string(name) + " must be a number, got \"" + *text + "\"";
      *field = *n;
    }
  }
  if (auto text = query_param(target, "limit")) {
    const auto n = to_number(*text);
    if (!n || *n == 0 || *n > 100000) return "limit must be 1-100000, got \"" + *text + "\"";
    query.limit = static_cast<std::size_t>(*n);
  }
  if (auto text = query_param(target, "ok")) {
    if (*text != "true" && *text != "false") return "ok must be true or false, got \"" + *text + "\"";
    query.ok = *text == "true";
  }
  return query;
}

// A Prometheus label value: backslash, double quote and LF escaped.
std::string label(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out;
}

void metric(std::string& out, const std::string& name, const std::string& help, std::string_view type) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
  out.append(type).append("\n");
}

// An integer field of a fault body within [min, max]; the error names the field.
std::variant<std::int64_t, std::string> fault_integer(const nlohmann::json& value, const std::string& field,
                                                      std::int64_t min, std::int64_t max) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < min || value.get<std::int64_t>() > max) {
    return field + " must be an integer " + std::to_string(min) + "-" + std::to_string(max);
  }
  return value.get<std::int64_t>();
}

constexpr std::string_view kFaultFields =
    "broker, down, rtt_ms, request_errors (kafka); drop_connections, refuse_connections_ms, slow_reader, "
    "fail_tls_handshakes_ms (tcp, tls)";

// A TCP/TLS listener fault: exactly one of its fields (docs/api.md, "Listener faults").
std::variant<ListenerFault, std::string> read_listener_fault(const nlohmann::json& body) {
  constexpr std::int64_t kMaxMs = kMaxListenerFaultDuration.count();
  if (body.size() != 1) {
    std::string given;
    for (const auto& [field, ignored] : body.items()) given += (given.empty() ? "" : ", ") + field;
    return "one listener fault per request, got " + given;
  }
  const std::string field = body.begin().key();
  const nlohmann::json& value = body.begin().value();
  ListenerFault fault;
  const auto duration = [&](const nlohmann::json& ms, const std::string& name) -> std::optional<std::string> {
    auto n = fault_integer(ms, name, 0, kMaxMs);
    if (auto* message = std::get_if<std::string>(&n)) return *message;
    fault.duration = std::chrono::milliseconds(std::get<std::int64_t>(n));
    return std::nullopt;
  };
  if (field == "drop_connections") {
    if (value != true) return std::string("drop_connections must be true");
    fault.kind = ListenerFault::Kind::drop_connections;
  } else if (field == "refuse_connections_ms") {
    fault.kind = ListenerFault::Kind::refuse_connections;
    if (auto message = duration(value, field)) return *message;
  } else if (field == "fail_tls_handshakes_ms") {
    fault.kind = ListenerFault::Kind::fail_tls_handshakes;
    if (auto message = duration(value, field)) return *message;
  } else {  // slow_reader
    if (!value.is_object()) return std::string("slow_reader must be an object {bytes_per_second, ms}");
    fault.kind = ListenerFault::Kind::slow_reader;
    for (const auto& [key, ignored] : value.items()) {
      if (key != "bytes_per_second" && key != "ms") return "slow_reader." + key + " is not a field (bytes_per_second, ms)";
    }
    const auto ms = value.find("ms");
    if (ms == value.end()) return std::string("slow_reader.ms is required (0 ends a slow reader)");
    if (auto message = duration(*ms, "slow_reader.ms")) return *message;
    const auto rate = value.find("bytes_per_second");
    if (rate == value.end()) {
      if (fault.duration.count() > 0) return std::string("slow_reader.bytes_per_second is required");
    } else {
      auto n = fault_integer(*rate, "slow_reader.bytes_per_second", 1, std::int64_t{1} << 40);
      if (auto* message = std::get_if<std::string>(&n)) return *message;
      fault.bytes_per_second = static_cast<std::uint64_t>(std::get<std::int64_t>(n));
    }
  }
  return fault;
}

// The body of POST /api/v1/listeners/NAME/faults: a Kafka broker fault or a
// TCP/TLS listener fault, told apart by their fields; an error names the field.
std::variant<KafkaFault, ListenerFault, std::string> read_fault(const nlohmann::json& body) {
  if (!body.is_object()) return std::string("the body must be a JSON object");
  static const std::set<std::string> kKafkaFields{"broker", "down", "rtt_ms", "request_errors"};
  static const std::set<std::string> kListenerFields{"drop_connections", "refuse_connections_ms", "slow_reader",
                                                     "fail_tls_handshakes_ms"};
  std::string kafka_field, listener_field;
  for (const auto& [field, ignored] : body.items()) {
    if (kKafkaFields.count(field)) kafka_field = field;
    else if (kListenerFields.count(field)) listener_field = field;
    else return field + " is not a field (" + std::string(kFaultFields) + ")";
  }
  if (!kafka_field.empty() && !listener_field.empty()) {
    return listener_field + " (a tcp/tls listener fault) cannot be combined with " + kafka_field + " (a kafka fault)";
  }
  if (!listener_field.empty()) {
    auto fault = read_listener_fault(body);
    if (auto* message = std::get_if<std::string>(&fault)) return *message;
    return std::get<ListenerFault>(fault);
  }
  KafkaFault fault;
  const auto integer = [](const nlohmann::json& value, const std::string& field, std::int64_t min,
                          std::int64_t max) -> std::variant<int, std::string> {
    auto n = fault_integer(value, field, min, max);
    if (auto* message = std::get_if<std::string>(&n)) return *message;
    return static_cast<int>(std::get<std::int64_t>(n));
  };
  for (const auto& [field, value] : body.items()) {
    if (field == "broker" || field == "rtt_ms") {
      auto n = integer(value, field, field == "broker" ? 1 : 0, field == "broker" ? 16 : 60000);
      if (auto* message = std::get_if<std::string>(&n)) return *message;
      (field == "broker" ? fault.broker : fault.rtt_ms) = std::get<int>(n);
    } else if (field == "down") {
      if (!value.is_boolean()) return std::string("down must be true or false");
      fault.down = value.get<bool>();
    } else if (field == "request_errors") {
      if (!value.is_object()) return std::string("request_errors must be an object {api, error, count}");
      KafkaFault::RequestErrors errors;
      static const std::map<std::string, int> kApis{{"produce", 0}, {"fetch", 1}};
      const auto api = value.find("api");
      if (api == value.end() || !api->is_string() || !kApis.count(api->get<std::string>())) {
        return std::string("request_errors.api must be \"produce\" or \"fetch\"");
      }
      errors.api = kApis.at(api->get<std::string>());
      const auto error = value.find("error");
      const auto code = error != value.end() && error->is_string() ? kafka_error_code(error->get<std::string>()) : std::nullopt;
      if (!code) return std::string("request_errors.error must be a Kafka error name, e.g. \"NOT_LEADER_FOR_PARTITION\"");
      errors.error = *code;
      if (const auto count = value.find("count"); count != value.end()) {
        auto n = integer(*count, "request_errors.count", 1, 100000);
        if (auto* message = std::get_if<std::string>(&n)) return *message;
        errors.count = std::get<int>(n);
      }
      for (const auto& [key, ignored] : value.items()) {
        if (key != "api" && key != "error" && key != "count") return "request_errors." + key + " is not a field (api, error, count)";
      }
      fault.request_errors = errors;
    }
  }
  if (!fault.down && !fault.rtt_ms && !fault.request_errors) return std::string("nothing to do: give one of ") + std::string(kFaultFields);
  if (fault.down && !fault.broker) return std::string("down needs broker");
  return fault;
}

}  // namespace

Response ControlApi::faults(const Request& request, const std::string& name) {
  const auto listeners = server_.listeners_json();
  const bool known = std::any_of(listeners.begin(), listeners.end(), [&](const auto& l) { return l["name"] == name; });
  if (!known) return error(request, http::status::not_found, "no listener " + name);
  const auto body = nlohmann::json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return error(request, http::status::bad_request, "the body is not JSON");
  auto fault = read_fault(body);
  if (auto* message = std::get_if<std::string>(&fault)) return error(request, http::status::bad_request, *message);
  using Kind = Server::FaultResult::Kind;
  const auto result = std::holds_alternative<KafkaFault>(fault)
                          ? server_.inject_kafka_fault(name, std::get<KafkaFault>(fault))
                          : server_.inject_listener_fault(name, std::get<ListenerFault>(fault));
  switch (result.kind) {
    case Kind::applied: return reply_json(request, {{"listener", name}, {"applied", body}});
    case Kind::no_listener: return error(request, http::status::not_found, result.message);
    case Kind::not_applicable: return error(request, http::status::conflict, result.message);
    case Kind::rejected: return error(request, http::status::bad_request, result.message);
  }
  return error(request, http::status::internal_server_error, "unknown fault result");
}

ControlApi::ControlApi(Server& server, std::string token) : server_(server), token_(std::move(token)) {}

Response ControlApi::handle(const Request& request) {
  const std::string_view target(request.target().data(), request.target().size());
  const std::string_view path = target.substr(0, target.find('?'));
  const auto method = request.method();
  if (path == "/healthz" && method == http::verb::get) return reply(request, http::status::ok, "ok\n", "text/plain");
  if (!token_.empty() && request[http::field::authorization] != "Bearer " + token_) {
    return error(request, http::status::unauthorized, "missing or wrong bearer token");
  }
  if (path == "/api/v1/listeners" && method == http::verb::get) return listeners();
  if (path == "/api/v1/stats" && method == http::verb::get) return reply_json(request, server_.stats_json());
  if (path == "/api/v1/events" && method == http::verb::get) return events(request);
  if (path == "/api/v1/events" && method == http::verb::delete_) {
    server_.store().clear();
    return reply_json(request, {{"deleted", true}});
  }
  if (path == "/api/v1/expect" && method == http::verb::post) return expect(request);
  if (path == "/metrics" && method == http::verb::get) return metrics();
  constexpr std::string_view kListeners = "/api/v1/listeners/", kFaults = "/faults";
  if (path.size() > kListeners.size() + kFaults.size() && path.substr(0, kListeners.size()) == kListeners &&
      path.substr(path.size() - kFaults.size()) == kFaults) {
    if (method != http::verb::post) return error(request, http::status::method_not_allowed, "faults take POST");
    return faults(request, std::string(path.substr(kListeners.size(), path.size() - kListeners.size() - kFaults.size())));
  }
  return error(request, http::status::not_found, "no route for " + std::string(request.method_string()) + " " + std::string(path));
}

Response ControlApi::listeners() {
  nlohmann::json list = server_.listeners_json();
  list.push_back({{"name", "api"}, {"transport", "http"}, {"address", own_address_}});
  return reply_json(Request{}, list);
}

Response ControlApi::events(const Request& request) {
  auto query = read_query(std::string_view(request.target().data(), request.target().size()));
  if (auto* message = std::get_if<std::string>(&query)) return error(request, http::status::bad_request, *message);
  const auto found = server_.store().find(std::get<EventQuery>(query));
  EventRenderer render;
  nlohmann::json events = nlohmann::json::array();
  for (const auto& event : found) events.push_back(render(event));
  // A page may end early (limit or max_bytes): the client goes on from last_id.
  const std::uint64_t last = found.empty() ? std::get<EventQuery>(query).since : found.back().id;
  return reply_json(request, {{"events", std::move(events)}, {"last_id", last}});
}

// Evaluates the body's expectations against the stored events, oldest first,
// a page at a time, stopping as soon as the verdict is decided.
Response ControlApi::expect(const Request& request) {
  const auto body = nlohmann::json::parse(request.body(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return error(request, http::status::bad_request, "the body is not JSON");
  auto parsed = expect::parse(body);
  if (auto* problem = std::get_if<expect::ParseError>(&parsed)) {
    return reply_json(request, problem->as_json(), http::status::bad_request);
  }
  expect::Evaluation evaluation(std::move(std::get<expect::Expectations>(parsed)));
  EventRenderer render;
  EventQuery page;
  page.limit = 10000;
  for (;;) {
    const auto events = server_.store().find(page);
    for (const auto& event : events) {
      evaluation.observe(render(event));
      if (evaluation.decided()) return reply_json(request, evaluation.result());
    }
    if (events.empty()) break;
    page.since = events.back().id;
  }
  return reply_json(request, evaluation.result());
}

Response ControlApi::metrics() {
  const auto stats = server_.stats_json();
  const auto& listeners = stats["listeners"];
  std::string out;
  // One metric per counter, labelled by listener: kumasim_frames_total{listener="kuma"}. Kafka listeners
  // have counters the others lack, so the names are the union and each listener reports those it has.
  std::set<std::string> names;
  for (const auto& [listener, counters] : listeners.items()) {
    for (const auto& [name, value] : counters.items()) {
      if (value.is_number()) names.insert(name);
    }
  }
  for (const auto& name : names) {
    const bool gauge = name == "open_connections" || name == "kafka_assigned_partitions";
    const std::string metric_name = "kumasim_" + name + (gauge ? "" : "_total");
    metric(out, metric_name, "listener " + std::string(gauge ? "gauge " : "counter ") + name, gauge ? "gauge" : "counter");
    for (const auto& [listener, counters] : listeners.items()) {
      const auto value = counters.find(name);
      if (value != counters.end() && value->is_number()) {
        out += metric_name + "{listener=\"" + label(listener) + "\"} " + value->dump() + "\n";
      }
    }
  }
  metric(out, "kumasim_lints_total", "KUMA compatibility lints seen, by listener and lint", "counter");
  for (const auto& [listener, counters] : listeners.items()) {
    for (const auto& [lint, value] : counters["lints"].items()) {
      out += "kumasim_lints_total{listener=\"" + label(listener) + "\",lint=\"" + lint + "\"} " + value.dump() + "\n";
    }
  }
  for (const auto& [name, value] : stats["store"].items()) {
    metric(out, "kumasim_store_" + name, "event store " + name, name == "evicted" ? "counter" : "gauge");
    out += "kumasim_store_" + name + " " + value.dump() + "\n";
  }
  return reply(Request{}, http::status::ok, std::move(out), "text/plain; version=0.0.4");
}

// ---------------------------------------------------------------- socket side

struct ApiServer::Impl {
  Impl(ControlApi& a) : api(a), acceptor(io) {}

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(8 * 1024 * 1024);
      stream.expires_after(std::chrono::seconds(60));
      boost::system::error_code ec;
      co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      const Request request = parser.release();
      Response response = api.handle(request);
      response.version(request.version());
      response.keep_alive(request.keep_alive());
      co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
      if (ec || !request.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> accept_loop() {
    asio::steady_timer pause(io);
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (!acceptor.is_open()) co_return;
      if (!ec) {
        asio::co_spawn(io, session(std::move(socket)), asio::detached);
        continue;
      }
      pause.expires_after(std::chrono::milliseconds(100));  // e.g. out of descriptors: no busy loop
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  ControlApi& api;
  asio::io_context io;
  tcp::acceptor acceptor;
  std::thread thread;
};

ApiServer::ApiServer(ControlApi& api, const std::string& address) : impl_(std::make_unique<Impl>(api)) {
  const auto colon = address.rfind(':');
  std::string host = colon == std::string::npos ? std::string() : address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  const auto port = colon == std::string::npos ? std::nullopt : to_number(address.substr(colon + 1));
  if (host.empty() || !port || *port > 65535) throw std::runtime_error("--api \"" + address + "\" is not HOST:PORT");
  const tcp::endpoint endpoint(asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host),
                               static_cast<std::uint16_t>(*port));
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  acceptor.bind(endpoint);
  acceptor.listen();
  api.set_own_address(this->address());
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

ApiServer::~ApiServer() {
  impl_->io.stop();
  impl_->thread.join();
  boost::system::error_code ignored;
  impl_->acceptor.close(ignored);
}

std::string ApiServer::address() const {
  const auto endpoint = impl_->acceptor.local_endpoint();
  const std::string host = endpoint.address().to_string();
  return (endpoint.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(endpoint.port());
}

bool is_loopback_address(const std::string& address) {
  const auto colon = address.rfind(':');
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  return !ec && ip.is_loopback();
}

}  // namespace kumasim::sim
