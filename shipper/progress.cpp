#include "shipper/progress.h"

#include <unistd.h>

namespace kumasim::shipper {

Progress::Progress(std::FILE* out)
    : out_(out), enabled_(::isatty(::fileno(out)) == 1), start_(std::chrono::steady_clock::now()), last_draw_() {}

void Progress::update(std::uint64_t events, std::uint64_t bytes) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  draw(events, bytes);
}

void Progress::finish(std::uint64_t events, std::uint64_t bytes) {
  if (!enabled_) return;
  draw(events, bytes);
  std::fputc('\n', out_);
  std::fflush(out_);
}

void Progress::draw(std::uint64_t events, std::uint64_t bytes) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(events) / seconds : 0;
  std::fprintf(out_, "\r\033[K%llu events  %.0f/s", static_cast<unsigned long long>(events), rate);
  if (total_bytes_ > 0 && bytes > 0) {
    const double done = static_cast<double>(bytes) / static_cast<double>(total_bytes_);
    const double eta = done > 0 ? seconds * (1 - done) / done : 0;
    std::fprintf(out_, "  %5.1f%%  ETA %.0f s", done > 1 ? 100.0 : done * 100, eta > 0 ? eta : 0);
  }
  std::fflush(out_);
}

}  // namespace kumasim::shipper
