// SIGINT and SIGTERM end a run gracefully; SIGUSR2 asks it to finish as
// --once does (read every file to its end, deliver, exit), which is how a
// scenario runner says "the input is complete". They are blocked in every
// thread (threads started later inherit the mask) and taken by one watcher
// thread, so they never interrupt I/O.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace kumasim::shipper {

// Call before starting any thread.
void block_stop_signals();

class StopSignalWatcher {
 public:
  // Both run on the watcher thread: `on_stop` at most once, after which the
  // watcher ends; `on_finish` on each SIGUSR2 before that.
  StopSignalWatcher(std::function<void()> on_stop, std::function<void()> on_finish);
  ~StopSignalWatcher();  // returns promptly when no signal came
  StopSignalWatcher(const StopSignalWatcher&) = delete;
  StopSignalWatcher& operator=(const StopSignalWatcher&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace kumasim::shipper
