#include "simulator/scenario/process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <stdexcept>

extern char** environ;

namespace kumasim::scenario {
namespace {

// The groups of the processes still running, for kill_every_process_group();
// 0 is a free slot. Lock-free atomics: a signal handler reads them.
std::array<std::atomic<int>, 256> live_groups{};

void register_group(int pid) {
  for (auto& slot : live_groups) {
    int free = 0;
    if (slot.compare_exchange_strong(free, pid)) return;
  }
}

void unregister_group(int pid) {
  for (auto& slot : live_groups) {
    int mine = pid;
    if (slot.compare_exchange_strong(mine, 0)) return;
  }
}

}  // namespace

void kill_every_process_group() {
  for (const auto& slot : live_groups) {
    if (const int pid = slot.load(); pid > 0) ::kill(-pid, SIGKILL);
  }
}


Process::Process(const std::vector<std::string>& argv, const std::string& log_file) {
  if (argv.empty()) throw std::runtime_error("no command to start");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // Nothing else: an inherited listening socket would keep accepting while a
  // fault has the listener refuse connections.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // The runner blocks no signals itself, but a parent (CTest, a shell) may
  // have: the child starts with none blocked and default dispositions.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGPIPE}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  // A process group of its own: signals reach what it starts too (a shell
  // script's children), and a terminal's Ctrl-C reaches only kumasim, which
  // then stops it.
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int rc = ::posix_spawnp(&pid_, args[0], &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  register_group(pid_);
}

Process::~Process() {
  if (status_) return;  // reaped, and its group with it (poll)
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  unregister_group(pid_);
}

std::optional<int> Process::poll() {
  if (status_) return status_;
  int status = 0;
  const int reaped = ::waitpid(pid_, &status, WNOHANG);
  if (reaped == 0 || (reaped < 0 && errno != ECHILD)) return std::nullopt;
  // ECHILD: reaped by someone else (SIGCHLD ignored): the status is lost.
  status_ = reaped < 0 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  // What it started and left behind goes with it; the group cannot have been
  // reused while those members lived.
  ::kill(-pid_, SIGKILL);
  unregister_group(pid_);
  return status_;
}

void Process::signal(int number) const {
  if (!status_) ::kill(-pid_, number);
}

bool Process::blocks(int number) const {
  std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigBlk:", 0) != 0) continue;
    const auto mask = std::stoull(line.substr(7), nullptr, 16);
    return (mask >> (number - 1)) & 1u;
  }
  return false;
}

bool Process::holds_open(const std::string& path) const {
  std::error_code error;
  const auto target = std::filesystem::weakly_canonical(path, error);
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/fd", error)) {
    std::error_code unreadable;
    if (std::filesystem::read_symlink(fd.path(), unreadable) == target) return true;
  }
  return false;
}

}  // namespace kumasim::scenario
