// The queue of one destination (dkp-log-shipper.md §9): the messages waiting
// for the sender (in memory, or on disk) and the ones the sender has taken
// but not yet finished ("in flight": written and not yet acknowledged, or
// handed to librdkafka and not yet reported).
//
// Keeping both halves under one lock is what makes done_below() exact: a
// message is always in exactly one of them until it is done, and the sender
// moves it between them only while holding the lock.
#pragma once

#include "shipper/delivery/delivery.h"
#include "shipper/delivery/ring.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace kumasim::shipper {

// Where a record ends in a disk buffer: the cursor to commit once the record
// and everything before it are done. Unused by memory storage.
struct DiskPosition {
  std::uint64_t segment = 0, offset = 0;
};

struct Entry {
  Message message;
  DiskPosition end;
};

// Where waiting messages are kept. Every call is made with the buffer's lock
// held, so implementations need no locking of their own.
class Storage {
 public:
  virtual ~Storage() = default;
  // Whether `message` fits now. An empty storage takes any message, so that
  // one message larger than the whole limit cannot block forever.
  virtual bool has_room(const Message& message) const = 0;
  // Empty on success, else why the message could not be stored.
  virtual std::optional<std::string> append(Message&& message) = 0;
  // The oldest waiting message, moved into `out`; false when there is none.
  virtual bool next(Entry& out) = 0;
  // A message taken by next() goes back in front of all others (newest first).
  virtual void put_back(Entry&& entry) = 0;
  virtual bool empty() const = 0;
  // Every message up to and including `entry` is done.
  virtual void commit(const Entry& entry) = 0;
  // True when a stored message survives a restart: it is done once appended.
  virtual bool durable() const = 0;
  // The sequence of the oldest waiting message, for done_below() (memory only).
  virtual std::optional<std::uint64_t> front_sequence() const = 0;
  // Persists what must survive (the disk cursor) and releases what the
  // storage holds (a disk buffer's directory). No call follows.
  virtual void close() = 0;
};

struct MemoryLimits {
  std::uint64_t max_messages = 0;  // 0: no limit
  std::uint64_t max_bytes = 0;     // payload bytes; 0: no limit
};

std::unique_ptr<Storage> make_memory_storage(MemoryLimits limits);

class Buffer {
 public:
  enum class Push { queued, dropped, stopped };

  // `log` receives storage failures (a disk that is full or read-only).
  Buffer(std::unique_ptr<Storage> storage, BufferSpec::WhenFull when_full, DeliveryCounters& counters,
         std::function<void(const std::string&)> log);

  // Producer side, any thread.
  Push push(Message&& message);
  std::uint64_t done_below() const;
  // True once nothing waits and nothing is in flight; false at the deadline or after stop().
  bool wait_idle(std::chrono::steady_clock::time_point deadline);
  // Wakes every waiter: blocked pushes return `stopped`, take() returns 0.
  void stop();
  // After the sender has finished: persists the disk cursor.
  void close();

  // Sender side, one thread. take() moves up to `max_messages` waiting
  // messages, and no more than about `max_bytes` of payload, to the end of
  // the in-flight list, waiting up to `wait` for the first; returns how many.
  std::size_t take(std::size_t max_messages, std::size_t max_bytes, std::chrono::milliseconds wait);
  std::size_t in_flight() const { return in_flight_.size(); }
  // The i-th oldest in-flight entry. Only the sender changes the list, so it
  // may read entries without the lock.
  const Entry& in_flight(std::size_t i) const { return in_flight_[i]; }
  // The `count` oldest in-flight messages are done (delivered or dropped).
  void retire(std::size_t count);
  // Every in-flight message goes back in front of the waiting ones, in
  // order, to be sent again; returns how many.
  std::size_t give_back();
  // For a sender whose in-flight messages finish out of order: once each is
  // either done or failed, the failed ones (`failed(i)` for the i-th oldest)
  // go back in front of the waiting ones, in order, and the done ones leave.
  // A disk buffer's cursor does not move past the messages given back, so
  // done ones behind them may be sent again after a restart, never lost.
  // `failed` is called under the lock. Returns how many went back.
  std::size_t give_back(const std::function<bool(std::size_t)>& failed);

 private:
  bool idle() const { return storage_->empty() && in_flight_.empty(); }
  Push refuse(const Message& message, const std::string& why);

  mutable std::mutex mutex_;
  std::condition_variable room_, ready_, idle_;
  std::unique_ptr<Storage> storage_;
  const BufferSpec::WhenFull when_full_;
  DeliveryCounters& counters_;
  std::function<void(const std::string&)> log_;
  Ring<Entry> in_flight_;
  std::uint64_t pushed_below_ = 0;  // one past the newest sequence pushed
  int waiting_pushers_ = 0;
  bool taker_waiting_ = false;
  bool stopped_ = false;
  bool storage_failing_ = false;  // a storage failure is logged once until an append succeeds
};

}  // namespace kumasim::shipper
