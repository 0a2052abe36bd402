// The File source (dkp-log-shipper.md §4): Vector's `file` source on one node.
// Include/exclude globs resolved under a root directory, lines cut at the
// delimiter, the 100 KiB line limit, reading from the beginning, following
// appends and rotation like `tail -F`, and checkpoints for restarts.
#pragma once

#include "shipper/manifest/manifest.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kumasim::shipper {

// Where a line ends in its file; the checkpoint a consumer commits once the
// line is delivered.
struct FilePosition {
  std::uint64_t file_id = 0;  // stable for the life of the FileSource
  std::uint64_t offset = 0;   // byte just past the line's delimiter
};

struct Line {
  std::string_view bytes;   // without the delimiter; valid during the callback
  const std::string* path;  // as the node sees it: "/var/log/kube-audit/audit.log"
  FilePosition end;
};

struct FileSourceOptions {
  std::string root;      // "" or "/" : the real file system
  std::string data_dir;  // "" : no checkpoints
  std::size_t max_line_bytes = 102400;
  // Emit a held-back unterminated line whenever a poll finds its file at the
  // end (replays of complete files). Bytes appended later start a new line.
  bool flush_partial = false;
  // How often a poll globs while files are busy; a poll that finds every file
  // read globs anyway. 0: every poll.
  std::chrono::milliseconds discovery_interval{100};
};

// `bytes`: read from the files (delimiters and dropped lines included);
// `read_errors`: errors reported through on_error (unreadable, vanished);
// `rotations`: a path found referring to a new file while the old one was
// still open; `truncations`: a file found shorter than the position read
// (copytruncate), read again from 0.
struct FileSourceCounters {
  std::uint64_t lines = 0, bytes = 0, dropped_oversize_line = 0, read_errors = 0, files_opened = 0, rotations = 0,
                truncations = 0;
};

// poll(), at_end() and counters() belong to one reader thread; commit() and
// save_checkpoints() may be called from any thread.
class FileSource {
 public:
  // Loads the checkpoints; throws std::runtime_error naming the file when
  // data_dir/checkpoints.json is unreadable or malformed, and
  // std::invalid_argument for an empty line delimiter or a glob Vector
  // would refuse (node_tree.h).
  FileSource(const Source& spec, FileSourceOptions options);
  ~FileSource();
  FileSource(FileSource&&) noexcept;

  // Discovers files, reads what is available (at most `max_bytes`) and calls
  // `on_line` for each complete line. Returns the number of bytes consumed.
  // Errors (unreadable or vanished files) go to `on_error`, once per state
  // change, and the other files go on. Never sleeps.
  std::size_t poll(const std::function<void(const Line&)>& on_line,
                   const std::function<void(const std::string&)>& on_error, std::size_t max_bytes = 1 << 20);

  // True when every matched file has been read to its current end (and, with
  // flush_partial, its tail emitted) by a poll that also globbed after the
  // files were read, so new, rotated and vanished files are accounted for.
  // Files in an error state do not count. `--once` stops when this holds.
  bool at_end() const;
  // Bytes of the open files not read yet (for a replay's progress and ETA).
  std::uint64_t unread_bytes() const;

  // Records that every line up to `pos` is delivered; saved by save_checkpoints().
  void commit(const FilePosition& pos);
  // Writes the committed positions to data_dir/checkpoints.json atomically
  // (no-op without data_dir, or when nothing changed since the last save).
  // Never throws: a failure (data_dir unwritable, ENOSPC, EMFILE) comes back
  // as its message, naming the file, for the caller to log; the positions
  // stay in memory and the next call writes them again.
  std::optional<std::string> save_checkpoints();

  const FileSourceCounters& counters() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kumasim::shipper
