// Cuts a file's byte stream into lines (dkp-log-shipper.md §4, §12): any
// delimiter byte string, removed from the line; lines longer than the limit
// are dropped without ever being held whole; an unterminated tail is held
// back until its delimiter arrives (or flush() gives it up).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kumasim::shipper {

class LineSplitter {
 public:
  struct Cut {
    enum class Kind { none, line, oversize };
    Kind kind = Kind::none;
    std::string_view bytes;  // Kind::line: valid until the next call on the splitter
  };

  // `delimiter` must not be empty.
  LineSplitter(std::string delimiter, std::size_t max_line_bytes);

  // Consumes bytes from the front of `input` up to and including the next
  // delimiter, or all of it when none completes a line (then held back).
  // `line`: a complete line; `oversize`: a line over the limit was dropped
  // (reported once per line); `none`: nothing to report for the bytes consumed.
  // The bytes consumed are those `input` shrank by.
  Cut next(std::string_view& input);

  // Gives up waiting for the delimiter: the held-back tail as a line (or as
  // `oversize` when it is over the limit), and forgets it.
  Cut flush();

  // Forgets everything held (the file was truncated).
  void reset();

  // Bytes held back; never more than max_line_bytes + delimiter size - 1.
  std::size_t held() const { return carry_.size(); }

 private:
  Cut finish(std::size_t line_bytes);
  Cut hold(std::string_view rest);
  void keep_delimiter_prefix(std::string_view rest);
  void clear_returned_line();

  std::string delimiter_;
  std::size_t max_line_bytes_;
  // The start of the current line, or while `skipping_` only its last
  // delimiter-size-1 bytes (a delimiter may start there and end in the next read).
  std::string carry_;
  bool skipping_ = false;       // inside an oversize line: discard until the delimiter
  bool carry_returned_ = false;  // carry_ was handed out as a line: clear it on the next call
};

}  // namespace kumasim::shipper
