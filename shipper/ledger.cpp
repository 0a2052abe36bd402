#include "shipper/ledger.h"

#include <algorithm>

namespace kumasim::shipper {
namespace {

// While a destination holds old lines back (down, with DropNewest), entries
// pile up. Past this many, every other one is forgotten: a checkpoint then
// moves in coarser steps (after a crash a few more lines are resent), but it
// never passes an undelivered line, and memory stays bounded.
constexpr std::size_t kMaxEntries = 1 << 18;

}  // namespace

std::uint64_t Ledger::open(std::size_t source, const FilePosition& end) {
  if (entries_.size() == kMaxEntries) thin_out();
  entries_.push_back({next_, source, end});
  return next_++;
}

void Ledger::handed(std::uint64_t sequence) {
  if (sequence == handed_below_) handed_below_ = sequence + 1;
}

void Ledger::settle(std::uint64_t done_below,
                    const std::function<void(std::size_t, const FilePosition&)>& commit) {
  const std::uint64_t floor = std::min(done_below, handed_below_);
  while (!entries_.empty() && entries_.front().sequence < floor) {
    commit(entries_.front().source, entries_.front().end);
    entries_.pop_front();
  }
  settled_below_ = std::max(settled_below_, std::min(floor, next_));
}

void Ledger::thin_out() {
  std::deque<Entry> kept;
  for (std::size_t i = 1; i < entries_.size(); i += 2) kept.push_back(entries_[i]);
  if (entries_.size() % 2 == 1) kept.push_back(entries_.back());  // the newest stays
  entries_.swap(kept);
}

}  // namespace kumasim::shipper
