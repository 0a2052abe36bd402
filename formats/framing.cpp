#include "formats/framing.h"

#include <algorithm>
#include <cstring>

namespace kumasim::formats {
namespace {

// RFC 6587 MSG-LEN has no upper bound; ten digits cover any frame we accept.
constexpr std::size_t kMaxCountDigits = 10;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

std::string_view to_string(FrameStatus status) {
  switch (status) {
    case FrameStatus::ok: return "ok";
    case FrameStatus::empty: return "empty";
    case FrameStatus::oversize: return "oversize";
    case FrameStatus::bad_octet_count: return "bad-octet-count";
  }
  return "?";
}

Framer::Framer(FramingConfig config) : config_(config) {}

void Framer::feed(std::string_view chunk, FrameSink sink) {
  while (!chunk.empty()) {
    std::size_t used = 0;
    switch (state_) {
      case State::frame_start: used = start_frame(chunk, sink); break;
      case State::in_delimited: used = feed_delimited(chunk, sink); break;
      case State::in_count: used = feed_count(chunk, sink); break;
      case State::in_counted: used = feed_counted(chunk, sink); break;
    }
    chunk.remove_prefix(used);
    position_ += used;
  }
}

void Framer::finish(FrameSink sink) {
  const bool partial = state_ == State::in_count || state_ == State::in_counted ||
                       (state_ == State::in_delimited && frame_size_ > 0);
  if (partial) {
    if (state_ == State::in_count) bad_count_ = true;
    emit(pending_, sink, /*unterminated=*/true);
  }
  state_ = State::frame_start;
}

std::size_t Framer::start_frame(std::string_view in, FrameSink sink) {
  frame_offset_ = position_;
  frame_size_ = 0;
  pending_.clear();
  bad_count_ = false;
  const bool counted = config_.mode == FramingMode::octet ||
                       (config_.mode == FramingMode::automatic && in[0] >= '1' && in[0] <= '9');
  if (!counted) {
    state_ = State::in_delimited;
    return 0;
  }
  state_ = State::in_count;
  count_ = 0;
  count_digits_ = 0;
  return feed_count(in, sink);
}

std::size_t Framer::feed_delimited(std::string_view in, FrameSink sink) {
  const void* hit = std::memchr(in.data(), config_.delimiter, in.size());
  if (hit == nullptr) {
    keep(in);
    frame_size_ += in.size();
    return in.size();
  }
  const std::size_t length = static_cast<std::size_t>(static_cast<const char*>(hit) - in.data());
  frame_size_ += length;
  if (pending_.empty() && length == frame_size_) {
    emit(in.substr(0, std::min(length, config_.max_frame_size)), sink);  // zero-copy path
  } else {
    keep(in.substr(0, length));
    emit(pending_, sink);
  }
  state_ = State::frame_start;
  return length + 1;
}

std::size_t Framer::feed_count(std::string_view in, FrameSink /*sink*/) {
  std::size_t i = 0;
  for (; i < in.size(); ++i) {
    const char c = in[i];
    if (c == ' ' && count_digits_ > 0) break;
    const bool digit_ok = is_digit(c) && count_digits_ < kMaxCountDigits && !(count_digits_ == 0 && c == '0');
    if (!digit_ok) {
      // Not MSG-LEN SP: resynchronise on the delimiter; what was read belongs to the bad frame.
      keep(in.substr(0, i));
      frame_size_ += i;
      bad_count_ = true;
      state_ = State::in_delimited;
      return i;
    }
    count_ = count_ * 10 + static_cast<std::uint64_t>(c - '0');
    ++count_digits_;
  }
  if (i == in.size()) {  // the count continues in the next chunk
    keep(in);
    frame_size_ += i;
    return i;
  }
  // "MSG-LEN SP" read: the payload follows. MSG-LEN is never 0 (no leading zero).
  pending_.clear();
  frame_size_ = 0;
  counted_left_ = count_;
  state_ = State::in_counted;
  return i + 1;
}

std::size_t Framer::feed_counted(std::string_view in, FrameSink sink) {
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(counted_left_, in.size()));
  const bool whole_in_chunk = frame_size_ == 0 && take == counted_left_;
  frame_size_ += take;
  counted_left_ -= take;
  if (whole_in_chunk) {
    emit(in.substr(0, std::min(take, config_.max_frame_size)), sink);  // zero-copy path
    state_ = State::frame_start;
    return take;
  }
  keep(in.substr(0, take));
  if (counted_left_ == 0) {
    emit(pending_, sink);
    state_ = State::frame_start;
  }
  return take;
}

void Framer::keep(std::string_view part) {
  const std::size_t room = config_.max_frame_size - std::min(config_.max_frame_size, pending_.size());
  pending_.append(part.data(), std::min(room, part.size()));
}

void Framer::emit(std::string_view bytes, FrameSink sink, bool unterminated) {
  Frame frame;
  frame.bytes = bytes;
  frame.offset = frame_offset_;
  frame.size = frame_size_;
  frame.octet_counted = state_ == State::in_counted;
  frame.unterminated = unterminated;
  if (bad_count_) {
    frame.status = FrameStatus::bad_octet_count;
  } else if (frame_size_ > config_.max_frame_size) {
    frame.status = FrameStatus::oversize;
  } else if (frame_size_ == 0 && !frame.octet_counted) {
    frame.status = FrameStatus::empty;
  }
  sink(frame);
}

}  // namespace kumasim::formats
