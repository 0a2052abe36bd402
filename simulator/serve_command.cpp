#include "simulator/serve_command.h"

#include "simulator/control_api.h"
#include "simulator/serve_config.h"
#include "simulator/server.h"

#include <malloc.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>

namespace kumasim::cli {

struct ServeOptions {
  CLI::App* command = nullptr;
  std::string config;
  std::vector<std::string> listen;
  std::string api = "127.0.0.1:8089";
  std::string api_token;
  std::string ready_file;
  std::string capture;
  std::uint64_t max_store = 256ull * 1024 * 1024;
  unsigned io_threads = 0;
};

namespace {

struct Settings {
  sim::ServerConfig server;
  std::string api, api_token, ready_file;
};

// The --config file first, then the command line: --listen adds listeners,
// other flags given on the command line win. An error names the bad setting.
std::variant<Settings, std::string> settings_from(const ServeOptions& options) {
  Settings settings;
  auto& server = settings.server;
  if (!options.config.empty()) {
    auto file = sim::load_serve_config(options.config);
    if (auto* error = std::get_if<std::string>(&file)) return "--config " + *error;
    auto& f = std::get<sim::ServeFileConfig>(file);
    server.listeners = std::move(f.listeners);
    settings.api = f.api.value_or(options.api);
    settings.api_token = f.api_token.value_or("");
    server.capture = f.capture.value_or("");
    server.max_store = f.max_store.value_or(options.max_store);
    server.io_threads = f.io_threads.value_or(0);
  } else {
    settings.api = options.api;
    server.max_store = options.max_store;
  }
  const auto given = [&](const char* flag) { return options.command->count(flag) > 0; };
  if (given("--api")) settings.api = options.api;
  if (given("--api-token")) settings.api_token = options.api_token;
  if (given("--capture")) server.capture = options.capture;
  if (given("--max-store")) server.max_store = options.max_store;
  if (given("--io-threads")) server.io_threads = options.io_threads;
  settings.ready_file = options.ready_file;
  for (const auto& url : options.listen) {
    auto parsed = sim::parse_listener_url(url, static_cast<int>(server.listeners.size() + 1));
    if (auto* error = std::get_if<std::string>(&parsed)) return "--listen: " + *error;
    server.listeners.push_back(std::move(std::get<sim::ListenerConfig>(parsed)));
  }
  if (server.listeners.empty()) return std::string("no listener: give --listen URL or listeners in --config");
  if (!sim::is_loopback_address(settings.api) && settings.api_token.empty()) {
    return "--api " + settings.api + " is not a loopback address: give --api-token";
  }
  return settings;
}

// Every connection is a descriptor: take the hard limit, not the often-1024 soft one.
void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
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
  cmd->add_option("--config", options->config, "YAML settings and listeners (docs/serve.md)")->check(CLI::ExistingFile);
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
  auto parsed = settings_from(options);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    std::cerr << "kumasim serve: " << *error << "\n";
    return 2;
  }
  auto& settings = std::get<Settings>(parsed);
  raise_file_limit();
  // Events are allocated on whichever I/O thread reads them and freed by an
  // eviction on another: with glibc's per-thread arenas the freed memory sits
  // in the wrong arena, and peak RSS doubles the store bound (measured: 531 MB
  // against 282 MB for a 256 MiB store). One arena keeps memory at the bound.
  mallopt(M_ARENA_MAX, 1);
  // Signals are taken by sigwait below; every thread started after this inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  try {
    sim::Server server(std::move(settings.server));
    sim::ControlApi api(server, settings.api_token);
    sim::ApiServer api_server(api, settings.api);
    nlohmann::json bound = server.listeners_json();
    bound.push_back({{"name", "api"}, {"transport", "http"}, {"address", api_server.address()}});
    if (!settings.ready_file.empty()) write_ready_file(settings.ready_file, bound);
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
