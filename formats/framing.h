// Splitting a byte stream into frames: by a one-byte delimiter, by RFC 6587
// octet counting, or auto-detected per frame. Frames may arrive split across
// reads; every byte fed comes out as part of exactly one reported frame.
//
// A frame that lies wholly inside one chunk is reported as a view into that
// chunk (no copy); only a frame that straddles chunks is assembled in an
// internal buffer, which never grows past max_frame_size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace kumasim::formats {

enum class FramingMode : std::uint8_t {
  delimiter,  // cut at every delimiter byte, which is removed (KUMA tcp connector)
  octet,      // RFC 6587 §3.4.1: MSG-LEN SP SYSLOG-MSG
  automatic,  // per frame: a digit 1-9 starts an octet count, anything else is delimited
};

struct FramingConfig {
  FramingMode mode = FramingMode::delimiter;
  char delimiter = '\n';
  std::size_t max_frame_size = 1024 * 1024;
};

enum class FrameStatus : std::uint8_t {
  ok,
  empty,            // two delimiters in a row
  oversize,         // longer than max_frame_size: `bytes` holds its first max_frame_size bytes
  bad_octet_count,  // not MSG-LEN SP: everything up to the next delimiter, reported as one frame
};

std::string_view to_string(FrameStatus status);

struct Frame {
  std::string_view bytes;    // the frame without its delimiter or MSG-LEN prefix
  FrameStatus status = FrameStatus::ok;
  std::uint64_t offset = 0;  // stream offset of the frame's first byte (prefix included)
  std::uint64_t size = 0;    // the frame's full length in the stream, delimiter/prefix excluded
  bool octet_counted = false;
  bool unterminated = false;  // the stream ended before the frame's delimiter or counted end
};

// A non-owning reference to a callable, cheap to pass on the hot path.
template <class Signature>
class FunctionRef;
template <class R, class... Args>
class FunctionRef<R(Args...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f)  // NOLINT(google-explicit-constructor): used like a plain callback
      : object_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, Args... args) -> R { return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<Args>(args)...); }) {}
  R operator()(Args... args) const { return call_(object_, std::forward<Args>(args)...); }

 private:
  void* object_;
  R (*call_)(void*, Args...);
};

using FrameSink = FunctionRef<void(const Frame&)>;

class Framer {
 public:
  explicit Framer(FramingConfig config = {});

  // Feeds the next chunk of the stream; reports each completed frame.
  void feed(std::string_view chunk, FrameSink sink);
  // The stream ended: reports a pending partial frame, if any.
  void finish(FrameSink sink);
  // Bytes fed so far.
  std::uint64_t position() const { return position_; }

 private:
  enum class State : std::uint8_t { frame_start, in_delimited, in_count, in_counted };

  // Each consumes a prefix of `in` and returns how many bytes it took.
  std::size_t start_frame(std::string_view in, FrameSink sink);
  std::size_t feed_delimited(std::string_view in, FrameSink sink);
  std::size_t feed_count(std::string_view in, FrameSink sink);
  std::size_t feed_counted(std::string_view in, FrameSink sink);
  void keep(std::string_view part);  // append to pending_, up to max_frame_size
  void emit(std::string_view bytes, FrameSink sink, bool unterminated = false);

  FramingConfig config_;
  State state_ = State::frame_start;
  std::string pending_;          // partial frame carried across chunks (bounded)
  std::uint64_t position_ = 0;   // stream offset of the next byte to read
  std::uint64_t frame_offset_ = 0;
  std::uint64_t frame_size_ = 0;    // bytes of the current frame's payload seen so far
  std::uint64_t counted_left_ = 0;  // octet counting: payload bytes still to read
  std::uint64_t count_ = 0;         // octet counting: MSG-LEN being parsed
  std::size_t count_digits_ = 0;
  bool bad_count_ = false;          // the delimited frame being read is a failed octet count
};

}  // namespace kumasim::formats
