#include "shipper/source/line_splitter.h"

#include <algorithm>
#include <utility>

namespace kumasim::shipper {

LineSplitter::LineSplitter(std::string delimiter, std::size_t max_line_bytes)
    : delimiter_(std::move(delimiter)), max_line_bytes_(max_line_bytes) {}

LineSplitter::Cut LineSplitter::next(std::string_view& input) {
  clear_returned_line();
  const std::size_t size = delimiter_.size();
  // A delimiter that began in the held bytes and ends in `input`. The longest
  // overlap starts earliest, and nothing in `input` can start before it.
  for (std::size_t k = std::min(size - 1, carry_.size()); k > 0; --k) {
    const std::string_view head(delimiter_.data(), k), tail(delimiter_.data() + k, size - k);
    if (std::string_view(carry_).ends_with(head) && input.starts_with(tail)) {
      input.remove_prefix(size - k);
      return finish(carry_.size() - k);
    }
  }
  const std::size_t pos = input.find(delimiter_);
  if (pos == std::string_view::npos) {
    const Cut cut = hold(input);
    input = {};
    return cut;
  }
  const std::string_view piece = input.substr(0, pos);
  input.remove_prefix(pos + size);
  if (carry_.empty() && !skipping_) {
    // The common case: the whole line is in this read, handed out without a copy.
    if (piece.size() > max_line_bytes_) return {Cut::Kind::oversize, {}};
    return {Cut::Kind::line, piece};
  }
  if (!skipping_ && carry_.size() + piece.size() > max_line_bytes_) {
    carry_.clear();
    return {Cut::Kind::oversize, {}};
  }
  if (!skipping_) carry_.append(piece);
  return finish(carry_.size());
}

LineSplitter::Cut LineSplitter::flush() {
  clear_returned_line();
  if (skipping_) {
    reset();  // the oversize line was reported when it crossed the limit
    return {};
  }
  if (carry_.empty()) return {};
  return finish(carry_.size());
}

void LineSplitter::reset() {
  carry_.clear();
  skipping_ = false;
  carry_returned_ = false;
}

// The line is the first `line_bytes` of carry_; the delimiter (if any) has been consumed.
LineSplitter::Cut LineSplitter::finish(std::size_t line_bytes) {
  if (skipping_) {
    reset();
    return {};
  }
  if (line_bytes > max_line_bytes_) {
    carry_.clear();
    return {Cut::Kind::oversize, {}};
  }
  carry_.resize(line_bytes);
  carry_returned_ = true;
  return {Cut::Kind::line, carry_};
}

// No delimiter in `rest`: keep it for the next read, unless the line is now
// certainly over the limit (only delimiter-size-1 trailing bytes can still
// turn out to be part of the delimiter).
LineSplitter::Cut LineSplitter::hold(std::string_view rest) {
  if (!skipping_ && carry_.size() + rest.size() <= max_line_bytes_ + delimiter_.size() - 1) {
    carry_.append(rest);
    return {};
  }
  const bool crossed_now = !skipping_;
  skipping_ = true;
  keep_delimiter_prefix(rest);
  return crossed_now ? Cut{Cut::Kind::oversize, {}} : Cut{};
}

// While skipping, only the last delimiter-size-1 bytes matter: a delimiter
// may start there and end in the next read.
void LineSplitter::keep_delimiter_prefix(std::string_view rest) {
  const std::size_t keep = delimiter_.size() - 1;
  if (rest.size() >= keep) {
    carry_.assign(rest.substr(rest.size() - keep));
    return;
  }
  carry_.append(rest);
  if (carry_.size() > keep) carry_.erase(0, carry_.size() - keep);
}

void LineSplitter::clear_returned_line() {
  if (!carry_returned_) return;
  carry_.clear();  // keeps the capacity: no allocation per line once warmed up
  carry_returned_ = false;
}

}  // namespace kumasim::shipper
