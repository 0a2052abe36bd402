#include "simulator/scenario/stage.h"

#include "formats/base64.h"
#include "simulator/pki.h"
#include "simulator/scenario/template.h"

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

namespace kumasim::scenario {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kGroupJoinLimit = std::chrono::seconds(30);

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw SetupError(path.string() + ": cannot write");
}

fs::path run_folder(const Scenario& scenario, const RunOptions& options, bool& temporary) {
  temporary = options.artifacts.empty();
  if (!temporary) return fs::path(options.artifacts) / scenario.name;
  return fs::temp_directory_path() / ("kumasim-run-" + scenario.name + "-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(Clock::now().time_since_epoch().count()));
}

// `tls: auto`: a fresh PKI in the run's folder; its CA and a client
// certificate become placeholders for the manifests.
void make_tls(sim::ListenerConfig& listener, Stage& stage) {
  pki::Bundle bundle;
  const auto dir = (stage.dir / "pki" / listener.name).string();
  if (auto error = pki::create(dir, pki::Options{}, /*force=*/true, bundle)) {
    throw SetupError("listener " + listener.name + ": tls: auto: " + *error);
  }
  listener.tls.cert_file = dir + "/" + std::string(pki::kServerCertFile);
  listener.tls.key_file = dir + "/" + std::string(pki::kServerKeyFile);
  listener.tls.ca_file = dir + "/" + std::string(pki::kCaCertFile);
  const std::string prefix = "listener." + listener.name + ".";
  stage.values[prefix + "ca_base64"] = formats::base64_encode(bundle.ca.cert_pem);
  stage.values[prefix + "client_cert_base64"] = formats::base64_encode(bundle.client.cert_pem);
  stage.values[prefix + "client_key_base64"] = formats::base64_encode(bundle.client.key_pem);
  stage.values[prefix + "ca_file"] = listener.tls.ca_file;
  stage.values[prefix + "client_cert_file"] = dir + "/" + std::string(pki::kClientCertFile);
  stage.values[prefix + "client_key_file"] = dir + "/" + std::string(pki::kClientKeyFile);
}

void start_listeners(const Scenario& scenario, Stage& stage) {
  sim::ServerConfig config;
  config.io_threads = 2;
  config.max_store = 64ull * 1024 * 1024;  // read as it arrives: the store only bridges two polls
  config.lossless_reader = true;           // and the listeners wait for the runner rather than lose events
  for (const auto& spec : scenario.listeners) {
    auto listener = spec.config;
    if (spec.tls_auto) make_tls(listener, stage);
    config.listeners.push_back(std::move(listener));
  }
  try {
    stage.server = std::make_unique<sim::Server>(std::move(config));
  } catch (const std::exception& e) {
    throw SetupError(e.what());
  }
}

// A KUMA kafka connector reads from where its group is; the listeners must
// have joined theirs (partitions assigned) before the sender produces.
void await_kafka_groups(const Scenario& scenario, const Stage& stage, const RunOptions& options,
                        const std::function<void(const std::string&)>& note) {
  const auto deadline = Clock::now() + kGroupJoinLimit;
  bool kafka = false;
  for (const auto& spec : scenario.listeners) {
    if (spec.config.transport != formats::Transport::kafka) continue;
    kafka = true;
    for (;;) {
      const auto stats = stage.server->stats_json()["listeners"][spec.config.name];
      if (stats.value("kafka_assigned_partitions", 0) >= spec.config.partitions) break;
      if (options.interrupted && *options.interrupted) throw SetupError("interrupted");
      if (Clock::now() > deadline) {
        const auto error = stats["kafka_last_error"];
        throw SetupError("listener " + spec.config.name + ": no partition assigned within 30 s: " +
                         (error.is_string() ? error.get<std::string>() : std::string("no error reported")));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (kafka) note("kafka consumers assigned");
}

void fill_placeholders(const Scenario& scenario, Stage& stage) {
  auto& values = stage.values;
  for (const auto& bound : stage.server->listeners_json()) {
    const std::string prefix = "listener." + bound["name"].get<std::string>() + ".";
    values[prefix + "address"] = bound["address"].get<std::string>();
    values[prefix + "port"] = std::to_string(bound["port"].get<int>());
    values[prefix + "host"] = "127.0.0.1";
    if (bound.contains("bootstrap")) {
      values[prefix + "bootstrap"] = bound["bootstrap"].get<std::string>();
      values[prefix + "topic"] = bound["topic"].get<std::string>();
    }
  }
  // A CA that signed nothing here: the "wrong CA" a sender must refuse.
  pki::Bundle stranger;
  if (auto error = pki::generate(pki::Options{}, stranger)) throw SetupError("pki.wrong_ca_base64: " + *error);
  values["pki.wrong_ca_base64"] = formats::base64_encode(stranger.ca.cert_pem);
  values["sandbox"] = (stage.dir / "root").string();
  values["run_dir"] = stage.dir.string();
  values["audit_log"] = stage.audit_log().string();
  for (const auto& [name, text] : scenario.shipper.files) values["file." + name] = (stage.dir / "files" / name).string();
}

std::string expand(const Stage& stage, const std::string& text, const std::string& where) {
  auto expanded = substitute(text, stage.values);
  if (!expanded.ok()) throw SetupError(where + ": " + expanded.error);
  return std::move(expanded.text);
}

// The manifests, `replace` applied to every occurrence and placeholders
// substituted; the command's files.
void write_sender_files(const Scenario& scenario, const Stage& stage) {
  for (std::size_t i = 0; i < scenario.shipper.manifests.size(); ++i) {
    const auto& m = scenario.shipper.manifests[i];
    const std::string where = "shipper.manifests[" + std::to_string(i) + "]";
    std::string text = m.file.empty() ? m.inline_text : read_text(m.file);
    for (const auto& [literal, replacement] : m.replace) {
      std::size_t at = text.find(literal);
      if (at == std::string::npos) throw SetupError(where + ".replace: \"" + literal + "\" does not occur in " + m.file);
      for (; at != std::string::npos; at = text.find(literal, at + replacement.size())) {
        text.replace(at, literal.size(), replacement);
      }
    }
    write_text(stage.dir / "manifests" / (std::to_string(i) + ".yaml"), expand(stage, text, where));
  }
  for (const auto& [name, text] : scenario.shipper.files) {
    write_text(stage.dir / "files" / name, expand(stage, text, "shipper.files." + name));
  }
}

}  // namespace

nlohmann::json Stage::shipper_summary() const {
  auto parsed = nlohmann::json::parse(read_text(summary()), nullptr, false);
  return parsed.is_object() ? parsed : nlohmann::json();
}

std::string Stage::sender_output() const { return read_text(sender_log()); }

Stage build_stage(const Scenario& scenario, const RunOptions& options, const std::function<void(const std::string&)>& note) {
  Stage stage;
  stage.dir = run_folder(scenario, options, stage.temporary);
  std::error_code error;
  fs::remove_all(stage.dir, error);
  fs::create_directories(stage.dir / "root", error);
  fs::create_directories(stage.dir / "data", error);
  if (error) throw SetupError(stage.dir.string() + ": cannot make the run's folder: " + error.message());
  start_listeners(scenario, stage);
  await_kafka_groups(scenario, stage, options, note);
  fill_placeholders(scenario, stage);
  write_sender_files(scenario, stage);
  return stage;
}

Sender::Launch sender_launch(const Scenario& scenario, const Stage& stage, const RunOptions& options) {
  const auto& shipper = scenario.shipper;
  Sender::Launch launch{{}, stage.sender_log().string(), shipper.command.empty()};
  if (!launch.bundled) {
    for (std::size_t i = 0; i < shipper.command.size(); ++i) {
      launch.argv.push_back(expand(stage, shipper.command[i], "shipper.command[" + std::to_string(i) + "]"));
    }
    return launch;
  }
  launch.argv = {options.shipper_binary, "run"};
  for (std::size_t i = 0; i < shipper.manifests.size(); ++i) {
    launch.argv.push_back((stage.dir / "manifests" / (std::to_string(i) + ".yaml")).string());
  }
  for (const auto& own : {std::string("--root"), stage.values.at("sandbox"), std::string("--data-dir"),
                          (stage.dir / "data").string(), std::string("--summary"), stage.summary().string()}) {
    launch.argv.push_back(own);
  }
  for (std::size_t i = 0; i < shipper.args.size(); ++i) {
    launch.argv.push_back(expand(stage, shipper.args[i], "shipper.args[" + std::to_string(i) + "]"));
  }
  return launch;
}

}  // namespace kumasim::scenario
