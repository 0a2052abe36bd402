// The program a scenario runs against its listeners: the bundled
// kumasim-shipper, or any other command. Started; told that the input is
// complete (the bundled shipper takes SIGUSR2 and finishes as with --once);
// restarted by faults, gracefully or as a crash; stopped at the end. Every
// transition is asynchronous, so the runner keeps reading events meanwhile.
#pragma once

#include "simulator/scenario/process.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace kumasim::scenario {

class Sender {
 public:
  struct Launch {
    std::vector<std::string> argv;
    std::string log_file;  // stdout and stderr, appended across restarts
    bool bundled = true;   // kumasim-shipper: takes SIGUSR2 and --once
  };
  // `note` records what happened (the run's timeline).
  Sender(Launch launch, std::function<void(const std::string&)> note);

  // Throws std::runtime_error when the program cannot be started.
  void start();
  // The input is complete: from now on the bundled shipper is told so (now,
  // or as soon as it can take the signal; a restart gets --once).
  void input_complete();
  // SIGTERM (graceful; SIGKILL after `grace` if it lingers) or SIGKILL (a
  // crash), then a new start once it has exited. What was done, or why not.
  struct Outcome {
    bool applied;
    std::string text;
  };
  Outcome restart(bool crash, std::chrono::milliseconds grace);
  // Drives the pending transitions; call on every pass of the runner's loop.
  void advance();
  // SIGTERM once it can take it, then SIGKILL after `grace`.
  void begin_stop(std::chrono::milliseconds grace);

  bool running() const { return process_ && !exit_; }
  bool ready() const;  // it has set up its signal handling
  bool holds_open(const std::string& path) const { return process_ && process_->holds_open(path); }
  // The status of its last exit, once it has exited and no restart is pending.
  std::optional<int> exit_status() const { return restart_pending_ ? std::nullopt : exit_; }
  std::optional<std::chrono::steady_clock::time_point> first_start() const { return first_start_; }
  int starts() const { return starts_; }  // processes started so far

 private:
  void poll_exit();
  void signal_when_ready(int number);

  Launch launch_;
  std::function<void(const std::string&)> note_;
  std::unique_ptr<Process> process_;
  std::optional<int> exit_;
  std::optional<std::chrono::steady_clock::time_point> first_start_, kill_at_;
  bool input_complete_ = false, finish_signalled_ = false, restart_pending_ = false;
  int pending_signal_ = 0;  // to send once ready()
  int starts_ = 0;
};

}  // namespace kumasim::scenario
