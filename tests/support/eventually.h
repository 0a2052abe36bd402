// Bounded polling, the tests' only way to wait for something another thread
// or process does: no sleeps standing in for synchronisation.
#pragma once

#include <chrono>
#include <thread>

namespace kumasim::testing {

// Polls `done` every few milliseconds; false when `seconds` pass first.
template <class Predicate>
bool eventually(Predicate done, int seconds = 10) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace kumasim::testing
