// The sender a scenario runs: a child process (the bundled kumasim-shipper or
// any command found on PATH) with stdout and stderr appended to one log file,
// watched without blocking so the runner's loop keeps evaluating events.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace kumasim::scenario {

// SIGKILL to the group of every Process still running. Async-signal-safe: for
// a signal handler that must not leave the senders behind when it ends kumasim.
void kill_every_process_group();

class Process {
 public:
  // Starts `argv` (argv[0] searched on PATH when it has no '/'); throws
  // std::runtime_error naming the command and the reason when it cannot.
  Process(const std::vector<std::string>& argv, const std::string& log_file);
  ~Process();  // SIGKILL to its group and reap, if still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // The exit status once it has ended (-N: killed by signal N; -1: reaped by
  // someone else), else nullopt. Reaping also kills what it left in its group.
  std::optional<int> poll();
  // To its process group: it and what it started.
  void signal(int number) const;
  // Whether the process blocks `number` now (/proc/PID/status): a program that
  // takes a signal synchronously is ready for it once it blocks it.
  bool blocks(int number) const;
  // Whether the process has `path` open (/proc/PID/fd): a sender that tails a
  // file is ready once it holds it.
  bool holds_open(const std::string& path) const;

 private:
  int pid_ = -1;
  std::optional<int> status_;
};

}  // namespace kumasim::scenario
