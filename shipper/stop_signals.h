// SIGINT and SIGTERM end a run gracefully. They are blocked in every thread
// (threads started later inherit the mask) and taken by one watcher thread,
// so they never interrupt I/O.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

namespace kumasim::shipper {

// Call before starting any thread.
void block_stop_signals();

class StopSignalWatcher {
 public:
  // `on_signal` runs on the watcher thread, at most once.
  explicit StopSignalWatcher(std::function<void()> on_signal);
  ~StopSignalWatcher();  // returns promptly when no signal came
  StopSignalWatcher(const StopSignalWatcher&) = delete;
  StopSignalWatcher& operator=(const StopSignalWatcher&) = delete;

 private:
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace kumasim::shipper
