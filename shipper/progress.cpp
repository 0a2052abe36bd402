#include "shipper/progress.h"

#include <unistd.h>

namespace kumasim::shipper {

Progress::Progress(std::FILE* out)
    : out_(out), enabled_(::isatty(::fileno(out)) == 1), start_(std::chrono::steady_clock::now()), last_draw_() {}

void Progress::update(std::uint64_t events, std::uint64_t bytes, std::uint64_t unread) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  draw(events, bytes, unread);
}

void Progress::finish(std::uint64_t events, std::uint64_t bytes) {
  if (!enabled_) return;
  draw(events, bytes, 0);
  std::fputc('\n', out_);
  std::fflush(out_);
}

void Progress::draw(std::uint64_t events, std::uint64_t bytes, std::uint64_t unread) {
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(events) / seconds : 0;
  std::fprintf(out_, "\r\033[K%llu events  %.0f/s", static_cast<unsigned long long>(events), rate);
  if (bytes > 0) {
    const double total = static_cast<double>(bytes + unread);
    const double eta = seconds * static_cast<double>(unread) / static_cast<double>(bytes);
    std::fprintf(out_, "  %5.1f%%  ETA %.0f s", 100.0 * static_cast<double>(bytes) / total, eta);
  }
  std::fflush(out_);
}

}  // namespace kumasim::shipper
