// The stop request of one sender thread, and the waits it must cut short:
// a back-off between connection attempts waits on a condition variable, not
// in a sleep, so that stop() takes effect at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace kumasim::shipper {

class Stopper {
 public:
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
    }
    wake_.notify_all();
  }
  bool stopped() const { return stopped_; }
  // Waits `duration`; false when stop() came first.
  bool wait_for(std::chrono::milliseconds duration) const {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, duration, [&] { return stopped_.load(); });
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable wake_;
  std::atomic<bool> stopped_{false};
};

}  // namespace kumasim::shipper
