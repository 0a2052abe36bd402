#include "simulator/server.h"

#include "simulator/asio.h"
#include "simulator/datagram_listener.h"
#include "simulator/frame_recorder.h"
#include "simulator/kafka_listener.h"
#include "simulator/stream_listener.h"

#include <algorithm>
#include <map>
#include <stdexcept>
#include <thread>

namespace kumasim::sim {

struct Server::Runtime {
  asio::io_context io;
  std::vector<std::unique_ptr<StreamListener>> stream_listeners;
  std::vector<std::unique_ptr<DatagramListener>> datagram_listeners;
  std::vector<std::unique_ptr<KafkaListener>> kafka_listeners;  // no Asio: each has its consumer thread
  std::map<std::string, KafkaListener*> kafka_by_name;
  std::map<std::string, StreamListener*> stream_by_name;  // TCP and TLS
  std::vector<nlohmann::json> bound;  // per listener, in configuration order
  std::vector<std::thread> threads;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
};

namespace {

std::shared_ptr<const ListenerInfo> info_for(const ListenerConfig& config) {
  formats::NormalizerOptions options;
  options.codec = config.codec;
  options.lenient = true;  // the simulator reports what KUMA reads; lints name what strict parsers reject
  return std::make_shared<const ListenerInfo>(ListenerInfo{config.name, config.transport, options});
}

template <class Endpoint>
nlohmann::json bound_json(const ListenerConfig& config, const Endpoint& endpoint) {
  const std::string host = endpoint.address().to_string();
  const std::string address = endpoint.address().is_v6() ? "[" + host + "]" : host;
  return {{"name", config.name},
          {"transport", transport_name(config.transport)},
          {"address", address + ":" + std::to_string(endpoint.port())},
          {"port", endpoint.port()},
          {"codec", formats::to_string(config.codec)}};
}

// A Kafka listener's address is its embedded broker's first bootstrap server.
nlohmann::json bound_json(const ListenerConfig& config, const std::string& bootstrap) {
  const std::string first = bootstrap.substr(0, bootstrap.find(','));
  const auto colon = first.rfind(':');
  const int port = colon == std::string::npos ? 0 : std::stoi(first.substr(colon + 1));
  return {{"name", config.name},
          {"transport", transport_name(config.transport)},
          {"address", first},
          {"port", port},
          {"codec", formats::to_string(config.codec)},
          {"bootstrap", bootstrap},
          {"topic", config.topic},
          {"group", config.group},
          {"partitions", config.partitions},
          {"embedded", config.embedded}};
}

}  // namespace

Server::Server(ServerConfig config)
    : config_(std::move(config)), store_(config_.max_store, config_.capture), runtime_(std::make_unique<Runtime>()) {
  auto& rt = *runtime_;
  if (config_.lossless_reader) store_.follow_reader();
  for (const auto& listener : config_.listeners) {
    auto& context = contexts_.emplace_back(listener, info_for(listener), store_);
    try {
      if (listener.transport == formats::Transport::kafka) {
        auto& l = rt.kafka_listeners.emplace_back(std::make_unique<KafkaListener>(context));
        rt.kafka_by_name[listener.name] = l.get();
        rt.bound.push_back(bound_json(listener, l->bootstrap()));
      } else if (listener.transport == formats::Transport::udp) {
        auto& l = rt.datagram_listeners.emplace_back(std::make_unique<DatagramListener>(rt.io, context));
        rt.bound.push_back(bound_json(listener, l->endpoint()));
      } else {
        auto& l = rt.stream_listeners.emplace_back(std::make_unique<StreamListener>(rt.io, context));
        rt.stream_by_name[listener.name] = l.get();
        rt.bound.push_back(bound_json(listener, l->endpoint()));
      }
    } catch (const std::exception& e) {
      throw std::runtime_error("listener " + listener.name + " (" + listener.host + ":" +
                               std::to_string(listener.port) + "): " + e.what());
    }
  }
  for (auto& l : rt.stream_listeners) l->start();
  for (auto& l : rt.datagram_listeners) l->start();
  for (auto& l : rt.kafka_listeners) l->start();
  rt.work.emplace(rt.io.get_executor());
  const unsigned threads = config_.io_threads ? config_.io_threads : std::max(1u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < threads; ++i) rt.threads.emplace_back([&rt] { rt.io.run(); });
}

Server::~Server() {
  auto& rt = *runtime_;
  store_.release();  // a listener waiting for the reader would never see the stop
  // Threads first: then nothing else touches the sockets while they close.
  rt.work.reset();
  rt.io.stop();
  for (auto& t : rt.threads) t.join();
  for (auto& l : rt.stream_listeners) l->stop();
  for (auto& l : rt.datagram_listeners) l->stop();
  for (auto& l : rt.kafka_listeners) l->stop();
  store_.flush_capture();
}

nlohmann::json Server::listeners_json() const { return runtime_->bound; }

nlohmann::json Server::stats_json() const {
  nlohmann::json listeners = nlohmann::json::object();
  for (const auto& context : contexts_) {
    const bool kafka = context.config.transport == formats::Transport::kafka;
    auto& out = listeners[context.config.name] = sim::stats_json(context.stats, kafka);
    if (kafka) {
      out["kafka_assigned_partitions"] = context.stats.kafka_assigned_partitions.load(std::memory_order_relaxed);
      out["kafka_lag"] = runtime_->kafka_by_name.at(context.config.name)->lag_json();
      const auto error = context.stats.kafka_last_error();
      out["kafka_last_error"] = error.empty() ? nlohmann::json() : nlohmann::json(error);
    }
  }
  const auto store = store_.stats();
  return {{"listeners", std::move(listeners)},
          {"store", {{"events", store.events}, {"bytes", store.bytes}, {"evicted", store.evicted},
                     {"last_id", store.last_id}, {"max_bytes", config_.max_store}}}};
}

std::optional<std::int64_t> Server::kafka_lag_from_brokers(const std::string& name, std::chrono::milliseconds timeout) const {
  const auto it = runtime_->kafka_by_name.find(name);
  return it == runtime_->kafka_by_name.end() ? std::nullopt : it->second->lag_from_brokers(timeout);
}

Server::FaultResult Server::inject_kafka_fault(const std::string& name, const KafkaFault& fault) {
  using Kind = FaultResult::Kind;
  const auto it = runtime_->kafka_by_name.find(name);
  if (it == runtime_->kafka_by_name.end()) {
    for (const auto& context : contexts_) {
      if (context.config.name == name) {
        return {Kind::not_applicable, "listener " + name + " is " + transport_name(context.config.transport) +
                                          ", not a kafka listener: broker faults apply to kafka listeners"};
      }
    }
    return {Kind::no_listener, "no listener " + name};
  }
  if (!it->second->embedded()) {
    return {Kind::not_applicable, "listener " + name + " consumes an external cluster: faults apply to the embedded broker only"};
  }
  if (auto problem = it->second->inject(fault)) return {Kind::rejected, *problem};
  for (auto& context : contexts_) {
    if (context.config.name == name) ListenerStats::bump(context.stats.faults_applied);
  }
  return {Kind::applied, ""};
}

Server::FaultResult Server::inject_listener_fault(const std::string& name, const ListenerFault& fault) {
  using Kind = FaultResult::Kind;
  const auto context = std::find_if(contexts_.begin(), contexts_.end(), [&](const auto& c) { return c.config.name == name; });
  if (context == contexts_.end()) return {Kind::no_listener, "no listener " + name};
  const auto transport = context->config.transport;
  const std::string kind(to_string(fault.kind));
  if (fault.kind == ListenerFault::Kind::fail_tls_handshakes && transport != formats::Transport::tls) {
    return {Kind::not_applicable, "listener " + name + " is " + transport_name(transport) + ": " + kind +
                                      " applies to tls listeners"};
  }
  const auto it = runtime_->stream_by_name.find(name);
  if (it == runtime_->stream_by_name.end()) {
    return {Kind::not_applicable, "listener " + name + " is " + transport_name(transport) + ": " + kind +
                                      " applies to tcp and tls listeners"};
  }
  if (auto problem = it->second->inject(fault)) return {Kind::rejected, *problem};
  ListenerStats::bump(context->stats.faults_applied);
  return {Kind::applied, ""};
}

}  // namespace kumasim::sim
