// Which lines every destination is done with, so that a checkpoint never
// passes a line that is not delivered (or dropped by design) everywhere.
#pragma once

#include "shipper/source/file_source.h"

#include <cstdint>
#include <deque>
#include <functional>

namespace kumasim::shipper {

class Ledger {
 public:
  // A line of source `source` ending at `end` was read; its sequence number.
  std::uint64_t open(std::size_t source, const FilePosition& end);
  // Line `sequence` reached every destination's buffer, or every one dropped it.
  // Only the oldest open line can be handed: after a refused push the lines
  // behind it stay open, so they are read again after a restart.
  void handed(std::uint64_t sequence);
  // Commits, oldest first, the end of every handed line below `done_below`
  // (the destinations' lowest sequence not done yet).
  void settle(std::uint64_t done_below, const std::function<void(std::size_t, const FilePosition&)>& commit);
  // Lines read and not yet settled.
  std::uint64_t outstanding() const { return next_ - settled_below_; }

 private:
  struct Entry {
    std::uint64_t sequence;
    std::size_t source;
    FilePosition end;
  };
  void thin_out();

  std::deque<Entry> entries_;
  std::uint64_t next_ = 0, handed_below_ = 0, settled_below_ = 0;
};

}  // namespace kumasim::shipper
