#include "shipper/commands.h"

#include "shipper/manifest/manifest.h"
#include "shipper/runner.h"

#include <ifaddrs.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <charconv>
#include <iostream>

namespace kumasim::shipper {

struct ValidateCommand {
  CLI::App* command = nullptr;
  std::vector<std::string> files;
  bool quiet = false;
};

struct RunCommand {
  CLI::App* command = nullptr;
  std::vector<std::string> files;
  std::string profile = "gen-c", root, data_dir, summary;
  std::string node_name, node_ip, pod_name, timezone, clock = "real";
  std::string rate, pace;
  double speed = 1.0;
  bool once = false, to_stdout = false, flush_partial = false;
  unsigned shutdown_timeout_ms = 5000;
};

namespace {

std::string host_name() {
  char name[256] = {};
  return ::gethostname(name, sizeof name - 1) == 0 ? name : "localhost";
}

// What Kubernetes puts in status.hostIP: here, the first non-loopback IPv4 address.
std::string first_host_ip() {
  ifaddrs* list = nullptr;
  std::string found = "127.0.0.1";
  if (::getifaddrs(&list) != 0) return found;
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    found = text;
    break;
  }
  ::freeifaddrs(list);
  return found;
}

// "500", "500/s" or "30000/m": events per second.
std::optional<double> parse_rate(std::string text) {
  double divisor = 1;
  if (text.ends_with("/s")) text.resize(text.size() - 2);
  else if (text.ends_with("/m")) text.resize(text.size() - 2), divisor = 60;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value <= 0) return std::nullopt;
  return value / divisor;
}

std::variant<RunOptions, std::string> run_options(const RunCommand& c) {
  RunOptions o;
  o.manifests = c.files;
  o.root = c.root;
  o.data_dir = c.data_dir;
  o.summary_file = c.summary;
  o.once = c.once;
  o.to_stdout = c.to_stdout;
  o.flush_partial = c.flush_partial;
  o.shutdown_timeout = std::chrono::milliseconds(c.shutdown_timeout_ms);
  const auto profile = parse_profile(c.profile);
  if (!profile) return "--profile: \"" + c.profile + "\" is neither gen-c nor gen-b";
  o.settings.profile = *profile;
  o.settings.node = {c.node_name.empty() ? host_name() : c.node_name, c.node_ip.empty() ? first_host_ip() : c.node_ip,
                     c.pod_name.empty() ? host_name() : c.pod_name};
  auto clock = Clock::parse(c.clock);
  if (auto* error = std::get_if<std::string>(&clock)) return *error;
  o.clock = std::get<Clock>(clock);
  auto zone = TimeZone::parse(c.timezone);
  if (auto* error = std::get_if<std::string>(&zone)) return *error;
  o.zone = std::get<TimeZone>(zone);
  if (!c.rate.empty() && !c.pace.empty()) return std::string("--rate and --pace exclude each other");
  if (!c.rate.empty()) {
    const auto rate = parse_rate(c.rate);
    if (!rate) return "--rate: \"" + c.rate + "\" is not a positive rate such as 500/s or 30000/m";
    o.pacer = replay::Pacer(replay::Pacer::Rate{*rate});
  }
  if (!c.pace.empty()) {
    if (c.pace != "recorded") return "--pace: \"" + c.pace + "\" is not \"recorded\"";
    if (c.speed <= 0) return std::string("--speed must be positive");
    o.pacer = replay::Pacer(replay::Pacer::Recorded{c.speed});
  }
  return o;
}

}  // namespace

std::shared_ptr<ValidateCommand> add_validate_command(CLI::App& app) {
  auto c = std::make_shared<ValidateCommand>();
  c->command = app.add_subcommand("validate", "Check ClusterLogDestination/ClusterLoggingConfig manifests as DKP would");
  c->command->add_option("FILE", c->files, "Manifest files (multi-document YAML)")->required();
  c->command->add_flag("--quiet", c->quiet, "Print errors only, not warnings");
  return c;
}

std::shared_ptr<RunCommand> add_run_command(CLI::App& app) {
  auto c = std::make_shared<RunCommand>();
  CLI::App* cmd = app.add_subcommand("run", "Ship files to the manifests' destinations as DKP log-shipper does");
  c->command = cmd;
  cmd->add_option("FILE", c->files, "Manifest files (multi-document YAML)")->required();
  cmd->add_option("--profile", c->profile, "DKP generation: gen-c (default) or gen-b");
  cmd->add_option("--root", c->root, "Directory that stands for / when resolving file globs");
  cmd->add_option("--data-dir", c->data_dir, "Checkpoints and disk buffers (none if not given)");
  cmd->add_flag("--once", c->once, "Read to the end of the files, deliver everything, exit");
  cmd->add_option("--node-name", c->node_name, "Node name: gen-c host, Syslog HOSTNAME (default: host name)");
  cmd->add_option("--node-ip,--host-ip", c->node_ip, "Node IP: gen-c host_ip (default: first non-loopback IPv4)");
  cmd->add_option("--pod-name", c->pod_name, "Agent pod name: gen-b host (default: host name)");
  cmd->add_option("--timezone,--tz", c->timezone, "Zone of the timestamp: IANA name or +HH:MM (default: local)");
  cmd->add_option("--clock", c->clock, "real, fixed:<RFC3339> or step:<ns>[@<RFC3339>]");
  cmd->add_flag("--stdout", c->to_stdout, "Write the wire bytes to stdout instead of the network");
  cmd->add_flag("--flush-partial", c->flush_partial, "Send a last line without delimiter at end of file");
  cmd->add_option("--rate", c->rate, "Replay at N events per second (500/s, 30000/m)");
  cmd->add_option("--pace", c->pace, "recorded: space events as their audit timestamps were");
  cmd->add_option("--speed", c->speed, "With --pace recorded: speed factor (2 = twice as fast)");
  cmd->add_option("--summary", c->summary, "Write the per-event accounting as JSON to this file");
  cmd->add_option("--shutdown-timeout", c->shutdown_timeout_ms, "Milliseconds to drain buffers when stopping");
  return c;
}

bool selected(const ValidateCommand& command) { return command.command->parsed(); }
bool selected(const RunCommand& command) { return command.command->parsed(); }

int run_validate(const ValidateCommand& command) {
  const Manifests manifests = load_manifests(command.files);
  std::size_t errors = 0, warnings = 0;
  for (const Diagnostic& d : manifests.diagnostics) {
    const bool error = d.severity == Diagnostic::Severity::error;
    (error ? errors : warnings)++;
    if (error || !command.quiet) std::cerr << to_string(d) << "\n";
  }
  std::cerr << errors << " error(s), " << warnings << " warning(s) in " << command.files.size() << " file(s)\n";
  return errors ? 2 : 0;
}

int run_run(const RunCommand& command) {
  auto options = run_options(command);
  if (auto* error = std::get_if<std::string>(&options)) {
    std::cerr << "kumasim-shipper run: " << *error << "\n";
    return 2;
  }
  return run(std::move(std::get<RunOptions>(options)));
}

}  // namespace kumasim::shipper
