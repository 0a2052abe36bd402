#include "shipper/stop_signals.h"

#include <pthread.h>

#include <csignal>
#include <ctime>

namespace kumasim::shipper {
namespace {

sigset_t watched_set() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGUSR2);
  return set;
}

}  // namespace

void block_stop_signals() {
  const sigset_t set = watched_set();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

StopSignalWatcher::StopSignalWatcher(std::function<void()> on_stop, std::function<void()> on_finish) {
  thread_ = std::thread([this, on_stop = std::move(on_stop), on_finish = std::move(on_finish)] {
    const sigset_t set = watched_set();
    const timespec slice{0, 100'000'000};  // how soon the destructor is noticed
    while (!done_) {
      const int signal = sigtimedwait(&set, nullptr, &slice);
      if (signal == SIGUSR2) {
        on_finish();
      } else if (signal > 0) {
        on_stop();
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
