#include "simulator/serve_command.h"

#include "simulator/control_api.h"
#include "simulator/server.h"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace kumasim::cli {

struct ServeOptions {
  CLI::App* command = nullptr;
  std::vector<std::string> listen;
  std::string api = "127.0.0.1:8089";
  std::string api_token;
  std::string ready_file;
  std::string capture;
  std::uint64_t max_store = 256ull * 1024 * 1024;
  unsigned io_threads = 0;
};

namespace {

// The listeners from the --listen URLs, or an error naming the bad one.
std::variant<std::vector<sim::ListenerConfig>, std::string> listeners_from(const ServeOptions& options) {
  std::vector<sim::ListenerConfig> listeners;
  for (std::size_t i = 0; i < options.listen.size(); ++i) {
    auto parsed = sim::parse_listener_url(options.listen[i], static_cast<int>(i + 1));
    if (auto* error = std::get_if<std::string>(&parsed)) return "--listen: " + *error;
    listeners.push_back(std::move(std::get<sim::ListenerConfig>(parsed)));
  }
  if (listeners.empty()) return std::string("no listener: give at least one --listen URL");
  return listeners;
}

// Written whole or not at all: readers poll for the file to appear.
void write_ready_file(const std::string& path, const nlohmann::json& listeners) {
  const std::string temporary = path + ".tmp";
  std::ofstream(temporary) << listeners.dump() << "\n";
  if (std::rename(temporary.c_str(), path.c_str()) != 0) throw std::runtime_error("cannot write --ready-file " + path);
}

}  // namespace

std::shared_ptr<ServeOptions> add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand("serve", "Run a mock KUMA collector until SIGINT or SIGTERM");
  options->command = cmd;
  cmd->add_option("--listen", options->listen, "A listener, e.g. tcp://127.0.0.1:5140?codec=cef (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--api", options->api, "Control API address HOST:PORT (port 0: ephemeral)")->capture_default_str();
  cmd->add_option("--api-token", options->api_token, "Bearer token the API requires (needed off loopback)");
  cmd->add_option("--ready-file", options->ready_file, "Write the bound addresses (JSON) here once listening");
  cmd->add_option("--capture", options->capture, "Append every event to this JSONL file");
  cmd->add_option("--max-store", options->max_store, "Bytes of events kept in memory; the oldest are evicted")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--io-threads", options->io_threads, "I/O threads (default: the number of cores)");
  return options;
}

bool serve_selected(const ServeOptions& options) { return options.command->parsed(); }

int run_serve(const ServeOptions& options) {
  auto listeners = listeners_from(options);
  if (auto* error = std::get_if<std::string>(&listeners)) {
    std::cerr << "kumasim serve: " << *error << "\n";
    return 2;
  }
  if (!sim::is_loopback_address(options.api) && options.api_token.empty()) {
    std::cerr << "kumasim serve: --api " << options.api << " is not a loopback address: give --api-token\n";
    return 2;
  }
  // Signals are taken by sigwait below; every thread started after this inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    sim::Server server({std::move(std::get<std::vector<sim::ListenerConfig>>(listeners)), options.max_store,
                        options.capture, options.io_threads});
    sim::ControlApi api(server, options.api_token);
    sim::ApiServer api_server(api, options.api);
    nlohmann::json bound = server.listeners_json();
    bound.push_back({{"name", "api"}, {"transport", "http"}, {"address", api_server.address()}});
    if (!options.ready_file.empty()) write_ready_file(options.ready_file, bound);
    std::cout << bound.dump() << std::endl;
    int signal = 0;
    sigwait(&signals, &signal);
    std::cerr << "kumasim serve: stopping on signal " << signal << "\n";
  } catch (const std::exception& e) {
    std::cerr << "kumasim serve: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace kumasim::cli
