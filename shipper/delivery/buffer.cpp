#include "shipper/delivery/buffer.h"

#include <utility>

namespace kumasim::shipper {

namespace {

// Buffer type Memory (maxEvents), and Disk when there is no data directory
// (maxSize bytes, which §9 allows).
class MemoryStorage final : public Storage {
 public:
  explicit MemoryStorage(MemoryLimits limits) : limits_(limits) {}

  bool has_room(const Message& message) const override {
    if (queue_.empty()) return true;
    if (limits_.max_messages != 0 && queue_.size() >= limits_.max_messages) return false;
    return limits_.max_bytes == 0 || bytes_ + message.payload.size() <= limits_.max_bytes;
  }
  std::optional<std::string> append(Message&& message) override {
    bytes_ += message.payload.size();
    queue_.push_back(Entry{std::move(message), {}});
    return std::nullopt;
  }
  bool next(Entry& out) override {
    if (queue_.empty()) return false;
    out = queue_.pop_front();
    bytes_ -= out.message.payload.size();
    return true;
  }
  void put_back(Entry&& entry) override {
    bytes_ += entry.message.payload.size();
    queue_.push_front(std::move(entry));
  }
  bool empty() const override { return queue_.empty(); }
  void commit(const Entry&) override {}
  bool durable() const override { return false; }
  std::optional<std::uint64_t> front_sequence() const override {
    if (queue_.empty()) return std::nullopt;
    return queue_.front().message.sequence;
  }
  void close() override {}

 private:
  const MemoryLimits limits_;
  Ring<Entry> queue_;
  std::uint64_t bytes_ = 0;
};

}  // namespace

std::unique_ptr<Storage> make_memory_storage(MemoryLimits limits) { return std::make_unique<MemoryStorage>(limits); }

Buffer::Buffer(std::unique_ptr<Storage> storage, BufferSpec::WhenFull when_full, DeliveryCounters& counters,
               std::function<void(const std::string&)> log)
    : storage_(std::move(storage)), when_full_(when_full), counters_(counters), log_(std::move(log)) {}

Buffer::Push Buffer::push(Message&& message) {
  std::unique_lock lock(mutex_);
  if (stopped_) return Push::stopped;
  if (!storage_->has_room(message)) {
    if (when_full_ == BufferSpec::WhenFull::drop_newest) {
      ++counters_.dropped_buffer_full;
      pushed_below_ = message.sequence + 1;
      return Push::dropped;
    }
    ++counters_.blocked_pushes;
    ++waiting_pushers_;
    room_.wait(lock, [&] { return stopped_ || storage_->has_room(message); });
    --waiting_pushers_;
    if (stopped_) return Push::stopped;
  }
  const std::uint64_t sequence = message.sequence;
  if (auto error = storage_->append(std::move(message))) {
    ++counters_.dropped_buffer_error;
    pushed_below_ = sequence + 1;
    const bool first = !std::exchange(storage_failing_, true);
    lock.unlock();  // the log callback is the caller's: not under our lock
    if (first) log_(*error);
    return Push::dropped;
  }
  storage_failing_ = false;
  ++counters_.queued;
  pushed_below_ = sequence + 1;
  if (taker_waiting_) ready_.notify_one();
  return Push::queued;
}

// A message is done once delivered or dropped, and, in a durable storage,
// once stored. Messages leave in the order they came, so the oldest one not
// done is the first in flight, else the first waiting.
std::uint64_t Buffer::done_below() const {
  std::lock_guard lock(mutex_);
  if (storage_->durable()) return pushed_below_;
  if (!in_flight_.empty()) return in_flight_.front().message.sequence;
  return storage_->front_sequence().value_or(pushed_below_);
}

bool Buffer::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  return idle_.wait_until(lock, deadline, [&] { return stopped_ || idle(); }) && idle();
}

void Buffer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  room_.notify_all();
  ready_.notify_all();
  idle_.notify_all();
}

void Buffer::close() {
  std::lock_guard lock(mutex_);
  storage_->close();
}

std::size_t Buffer::take(std::size_t max_messages, std::size_t max_bytes, std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  if (storage_->empty() && !stopped_) {
    taker_waiting_ = true;
    ready_.wait_for(lock, wait, [&] { return stopped_ || !storage_->empty(); });
    taker_waiting_ = false;
  }
  if (stopped_) return 0;
  std::size_t count = 0, bytes = 0;
  Entry entry;
  while (count < max_messages && bytes < max_bytes && storage_->next(entry)) {
    bytes += entry.message.payload.size();
    in_flight_.push_back(std::move(entry));
    ++count;
  }
  if (count != 0 && waiting_pushers_ != 0) room_.notify_all();
  return count;
}

void Buffer::retire(std::size_t count) {
  if (count == 0) return;
  std::lock_guard lock(mutex_);
  for (std::size_t i = 1; i < count; ++i) in_flight_.pop_front();
  storage_->commit(in_flight_.front());  // commits only the newest: everything before it is implied
  in_flight_.pop_front();
  // A disk buffer frees space only when its cursor moves.
  if (waiting_pushers_ != 0) room_.notify_all();
  if (idle()) idle_.notify_all();
}

std::size_t Buffer::give_back() {
  return give_back([](std::size_t) { return true; });
}

// Newest first, since put_back() puts each one in front of the others. A done
// message leaves without a commit: one given back may precede it.
std::size_t Buffer::give_back(const std::function<bool(std::size_t)>& failed) {
  std::lock_guard lock(mutex_);
  std::size_t count = 0;
  for (std::size_t i = in_flight_.size(); i-- > 0;) {
    Entry entry = in_flight_.pop_back();
    if (!failed(i)) continue;
    storage_->put_back(std::move(entry));
    ++count;
  }
  if (idle()) idle_.notify_all();
  return count;
}

}  // namespace kumasim::shipper
