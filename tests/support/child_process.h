// A real child process for command-line tests: argv, stdout and stderr to
// files, bounded waits, and a kill on destruction so a failing test leaves nothing behind.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace kumasim::testing {

class ChildProcess {
 public:
  // Starts `argv[0]` with stdout to `out` and stderr to `err` (files).
  ChildProcess(std::vector<std::string> argv, const std::filesystem::path& out, const std::filesystem::path& err);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The exit status, or nullopt if it has not exited within `seconds` (or died of a signal: -signal).
  std::optional<int> wait(int seconds = 30);
  void signal(int number) const;
  bool running() const { return pid_ > 0; }

 private:
  int pid_ = -1;
};

}  // namespace kumasim::testing
