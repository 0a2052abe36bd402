#include "shipper/delivery/sink.h"

#include <algorithm>

namespace kumasim::shipper {

std::chrono::milliseconds Backoff::next() {
  const auto delay = delay_;
  delay_ = std::min(delay_ * 2, kMax);
  return delay;
}

// Failures alternate (refused, then a reset, then refused again): remembering
// every text logged since the last recovery keeps each one to a single line.
void StateLog::failure(const std::string& text) {
  if (std::find(failures_.begin(), failures_.end(), text) != failures_.end()) return;
  constexpr std::size_t kRemembered = 32;  // bounds memory when texts carry changing details
  if (failures_.size() == kRemembered) failures_.erase(failures_.begin());
  failures_.push_back(text);
  log_(text);
}

void StateLog::recovery(const std::string& text) {
  failures_.clear();
  log_(text);
}

}  // namespace kumasim::shipper
