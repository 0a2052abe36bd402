#include "simulator/run_command.h"

#include "simulator/scenario/process.h"
#include "simulator/scenario/report.h"
#include "simulator/scenario/runner.h"
#include "simulator/scenario/scenario_file.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

namespace kumasim::cli {

namespace fs = std::filesystem;

struct RunCommandOptions {
  CLI::App* command = nullptr;
  std::vector<std::string> paths;
  std::string junit, json, artifacts, shipper;
  unsigned jobs = 0;
};

std::shared_ptr<RunCommandOptions> add_run_command(CLI::App& app) {
  auto o = std::make_shared<RunCommandOptions>();
  o->command = app.add_subcommand("run", "Run scenario files against the simulator and report");
  o->command->add_option("paths", o->paths, "Scenario files, or folders of *.yaml files")->required();
  o->command->add_option("--junit", o->junit, "Write JUnit XML here");
  o->command->add_option("--json", o->json, "Write the results as JSON here");
  o->command->add_option("--artifacts", o->artifacts,
                         "Keep each run's folder here (events.jsonl, shipper.log, manifests); "
                         "default: a temporary folder, kept only when the scenario fails");
  o->command->add_option("--shipper", o->shipper,
                         "The kumasim-shipper to run (default: next to kumasim, or on PATH)");
  o->command->add_option("--jobs,-j", o->jobs, "Scenarios run at once (default: the number of cores)");
  return o;
}

bool run_selected(const RunCommandOptions& options) { return options.command->parsed(); }

namespace {

// The scenario files named: files as given, folders' *.yaml and *.yml
// (recursively) in name order.
std::vector<std::string> scenario_files(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& path : paths) {
    if (!fs::is_directory(path)) {
      files.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(path)) {
      const auto ext = entry.path().extension();
      if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) found.push_back(entry.path().string());
    }
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

// The bundled shipper: KUMASIM_SHIPPER, beside this executable (installed),
// in the build tree's shipper/ folder, else on PATH.
std::string default_shipper() {
  if (const char* env = std::getenv("KUMASIM_SHIPPER")) return env;
  std::error_code error;
  const auto self = fs::read_symlink("/proc/self/exe", error);
  if (!error) {
    for (const auto& candidate : {self.parent_path() / "kumasim-shipper", self.parent_path().parent_path() / "shipper" / "kumasim-shipper"}) {
      if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
  }
  return "kumasim-shipper";
}

// SIGINT and SIGTERM end the scenarios still running, failed, their senders
// stopped and their folders kept, rather than killing kumasim and leaving
// the senders behind. A second one kills the senders and kumasim at once.
std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int number) {
  if (!interrupted.exchange(true)) return;
  scenario::kill_every_process_group();
  std::signal(number, SIG_DFL);
  std::raise(number);
}

void catch_interrupts() {
  std::signal(SIGCHLD, SIG_DFL);  // an ignored SIGCHLD, inherited, would hide the senders' exits
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Two scenarios of one name would share a folder (and a row of the report).
bool unique_names(const std::vector<scenario::Scenario>& scenarios) {
  std::map<std::string, std::string> seen;
  for (const auto& s : scenarios) {
    const auto [it, fresh] = seen.emplace(s.name, s.path);
    if (!fresh) {
      std::cerr << s.path << ": the name \"" << s.name << "\" is also " << it->second << "'s: give one of them a name\n";
      return false;
    }
  }
  return true;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (out) return true;
  std::cerr << "kumasim run: " << path << ": cannot write\n";
  return false;
}

}  // namespace

int run_scenarios(const RunCommandOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<scenario::Scenario> scenarios;
  bool invalid = false;
  for (const auto& file : scenario_files(options.paths)) {
    auto loaded = scenario::load_scenario(file);
    if (auto* error = std::get_if<std::string>(&loaded)) {
      std::cerr << *error << "\n";
      invalid = true;
    } else {
      scenarios.push_back(std::move(std::get<scenario::Scenario>(loaded)));
    }
  }
  if (invalid || !unique_names(scenarios)) return 2;
  if (scenarios.empty()) {
    std::cerr << "kumasim run: no scenario files found\n";
    return 2;
  }
  scenario::RunOptions run_options{options.shipper.empty() ? default_shipper() : options.shipper, options.artifacts,
                                   &interrupted};
  catch_interrupts();

  // Each scenario has its own listeners on ephemeral ports and its own folder: they run side by side.
  std::vector<scenario::ScenarioResult> results(scenarios.size());
  std::atomic<std::size_t> next{0};
  std::mutex print;
  const unsigned jobs = std::max(1u, options.jobs ? options.jobs : std::thread::hardware_concurrency());
  std::vector<std::thread> workers;
  for (unsigned w = 0; w < std::min<std::size_t>(jobs, scenarios.size()); ++w) {
    workers.emplace_back([&] {
      for (std::size_t i; (i = next++) < scenarios.size();) {
        if (interrupted) {  // not started: reported, not run
          results[i].name = scenarios[i].name;
          results[i].path = scenarios[i].path;
          results[i].failures = {"interrupted before it started"};
          continue;
        }
        results[i] = scenario::run_scenario(scenarios[i], run_options);
        std::lock_guard lock(print);
        std::cerr << (results[i].pass ? "pass " : "FAIL ") << results[i].name << "\n";
      }
    });
  }
  for (auto& w : workers) w.join();

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << scenario::result_table(results, seconds, ::isatty(STDOUT_FILENO) == 1);
  bool written = true;
  if (!options.junit.empty()) written = write_file(options.junit, scenario::junit_xml(results, seconds)) && written;
  if (!options.json.empty()) written = write_file(options.json, scenario::results_json(results, seconds).dump(2) + "\n") && written;
  if (!written) return 2;
  return std::all_of(results.begin(), results.end(), [](const auto& r) { return r.pass; }) ? 0 : 1;
}

}  // namespace kumasim::cli
