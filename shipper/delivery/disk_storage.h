// Buffer type Disk (dkp-log-shipper.md §9): waiting messages kept in a
// directory so that they survive a restart of the shipper.
//
// Layout of `dir` (data_dir/buffer/<destination>):
//   NNNNNNNNNNNNNNNNNNNN.seg  append-only segments, numbered upwards; each
//                             run of the shipper starts a new one
//   cursor                    "<segment> <offset>\n": where the oldest message
//                             not yet done starts (replaced atomically)
//   lock                      flock()ed while a shipper uses the directory
// A record is three 32-bit sizes in host byte order (key + 1, 0 for no key;
// topic; payload) followed by those bytes. A record cut short by a crash at
// the end of a segment is skipped on reading.
//
// Writes go to the page cache without fsync per message: the buffer survives
// a crash of the shipper; a power loss may lose the newest records (segments
// are fdatasync()ed when they are closed). The cursor is rewritten at most
// every 100 ms while messages are being delivered, so after a crash up to
// that much may be sent twice, never lost.
#pragma once

#include "shipper/delivery/buffer.h"
#include "shipper/fd.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace kumasim::shipper {

class DiskStorage final : public Storage {
 public:
  // Opens `dir`, creating it, and resumes from its cursor. `max_bytes` bounds
  // the records not yet done (0: no bound). Throws std::runtime_error naming
  // the directory and the reason (not creatable, in use by another shipper).
  DiskStorage(std::string dir, std::uint64_t max_bytes, std::function<void(const std::string&)> log);
  ~DiskStorage() override;

  bool has_room(const Message& message) const override;
  std::optional<std::string> append(Message&& message) override;
  bool next(Entry& out) override;
  void put_back(Entry&& entry) override;
  bool empty() const override;
  void commit(const Entry& entry) override;
  bool durable() const override { return true; }
  std::optional<std::uint64_t> front_sequence() const override { return std::nullopt; }
  void close() override;

 private:
  void lock_directory();
  void scan_segments();
  void read_cursor();
  void start_segment(std::uint64_t id);
  std::string segment_path(std::uint64_t id) const;
  std::uint64_t segment_size(std::uint64_t id) const;
  bool read_at_end() const;
  void skip_rest_of_segment(const std::string& why);
  const char* fetch(std::size_t size);
  void write_cursor();

  const std::string dir_;
  const std::uint64_t max_bytes_;
  const std::uint64_t segment_limit_;
  std::function<void(const std::string&)> log_;
  Fd lock_;

  std::map<std::uint64_t, std::uint64_t> segments_;  // id -> size; the last one is written
  std::uint64_t write_segment_ = 0;
  Fd write_fd_;
  std::uint64_t bytes_ = 0;  // in records not yet done

  DiskPosition read_;  // the next record next() reads
  Fd read_fd_;
  std::vector<char> read_buffer_;
  std::uint64_t buffered_from_ = 0;  // offset in the read segment of read_buffer_[0]
  std::size_t buffered_ = 0;
  Ring<Entry> retry_;  // put back by the sender; served before the segments

  DiskPosition committed_;
  bool cursor_dirty_ = false;
  std::chrono::steady_clock::time_point cursor_written_{};
  bool cursor_failing_ = false;
};

}  // namespace kumasim::shipper
