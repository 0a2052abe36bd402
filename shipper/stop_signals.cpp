#include "shipper/stop_signals.h"

#include <pthread.h>

#include <csignal>
#include <ctime>

namespace kumasim::shipper {
namespace {

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void block_stop_signals() {
  const sigset_t set = stop_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

StopSignalWatcher::StopSignalWatcher(std::function<void()> on_signal) {
  thread_ = std::thread([this, on_signal = std::move(on_signal)] {
    const sigset_t set = stop_set();
    const timespec slice{0, 100'000'000};  // how soon the destructor is noticed
    while (!done_) {
      if (sigtimedwait(&set, nullptr, &slice) > 0) {
        on_signal();
        return;
      }
    }
  });
}

StopSignalWatcher::~StopSignalWatcher() {
  done_ = true;
  thread_.join();
}

}  // namespace kumasim::shipper
