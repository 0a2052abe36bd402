// A one-line progress display for replays on a terminal: events, rate and,
// when the input size is known, percentage and ETA. Silent otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace kumasim::shipper {

class Progress {
 public:
  // Draws on `out` only when it is a terminal.
  explicit Progress(std::FILE* out);
  // `total_bytes` 0: unknown (following files), no percentage or ETA.
  void set_total(std::uint64_t total_bytes) { total_bytes_ = total_bytes; }
  // Redraws at most four times a second.
  void update(std::uint64_t events, std::uint64_t bytes);
  // Leaves the last line in place.
  void finish(std::uint64_t events, std::uint64_t bytes);

 private:
  void draw(std::uint64_t events, std::uint64_t bytes);

  std::FILE* out_;
  bool enabled_;
  std::uint64_t total_bytes_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace kumasim::shipper
