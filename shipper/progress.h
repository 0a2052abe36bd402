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
  bool enabled() const { return enabled_; }
  // Redraws at most four times a second. `unread` bytes are still to be read;
  // the ETA is when they will be, at the rate so far.
  void update(std::uint64_t events, std::uint64_t bytes, std::uint64_t unread);
  // Leaves the last line in place.
  void finish(std::uint64_t events, std::uint64_t bytes);

 private:
  void draw(std::uint64_t events, std::uint64_t bytes, std::uint64_t unread);

  std::FILE* out_;
  bool enabled_;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace kumasim::shipper
