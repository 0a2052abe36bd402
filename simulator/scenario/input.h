// The audit log a scenario writes, seen two ways: a catalog of every line
// (hashes, which selectors pick it) built before the run, against which
// received events are recognised; and the writer that appends the lines to
// the sandboxed /var/log/kube-audit/audit.log as a kube-apiserver would.
#pragma once

#include "replay/pacer.h"
#include "simulator/expect.h"
#include "simulator/scenario/scenario.h"

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace kumasim::scenario {

// Calls `line` for each line the input writes, in order (text without its
// LF; `limit` and `repeat` applied). Throws std::runtime_error naming a file
// it cannot read.
void for_each_input_line(const std::vector<InputSpec>& input,
                         const std::function<void(std::string_view text, const InputSpec& from)>& line);

std::uint64_t text_hash(std::string_view text);

// Every input line by the hash of its text: 16 bytes a line, however long the
// lines are, so a replay of a large log stays small. Content is compared by
// 64-bit hash.
class InputCatalog {
 public:
  // `selectors[k]` null selects every line.
  InputCatalog(const std::vector<InputSpec>& input, const std::vector<const expect::Selector*>& selectors);

  std::uint64_t lines() const { return hashes_.size(); }
  // The lines whose text hashes to `hash`, in input order.
  std::vector<std::uint32_t> lines_with(std::uint64_t hash) const;
  bool selected(std::size_t selector, std::uint32_t line) const { return selected_[selector][line]; }
  std::uint64_t selected_count(std::size_t selector) const { return selected_counts_[selector]; }
  // The text of line `line`, read again from the input (for reports only).
  std::string text_of(std::uint32_t line) const;

 private:
  std::vector<InputSpec> input_;
  std::vector<std::uint64_t> hashes_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> by_hash_;  // sorted
  std::vector<std::vector<bool>> selected_;
  std::vector<std::uint64_t> selected_counts_;
};

class InputWriter {
 public:
  // Appends to `audit_log` (created, with its folders, by create() or start()).
  InputWriter(std::vector<InputSpec> input, std::filesystem::path audit_log, std::uint64_t lines);
  ~InputWriter();  // stops and joins
  InputWriter(const InputWriter&) = delete;
  InputWriter& operator=(const InputWriter&) = delete;

  // The empty log, as a running API server has one before any request.
  void create();
  // Writes the input on a thread of its own (creating the log first if need be).
  void start();
  std::uint64_t written() const { return written_.load(std::memory_order_acquire); }
  bool done() const { return done_.load(std::memory_order_acquire); }
  std::optional<std::string> error() const;
  // When line `index` was written (UTC ns), 0 if not yet.
  std::int64_t written_ns(std::uint32_t index) const { return written_ns_[index].load(std::memory_order_relaxed); }
  std::uint64_t rotations() const { return rotations_.load(std::memory_order_relaxed); }

 private:
  void run();
  void write_out(std::string& buffer, std::uint32_t first, std::uint32_t end);
  void rotate();

  std::vector<InputSpec> input_;
  std::filesystem::path path_;
  std::unique_ptr<std::atomic<std::int64_t>[]> written_ns_;
  std::atomic<std::uint64_t> written_{0}, rotations_{0};
  std::atomic<bool> done_{false};
  replay::Flag stop_;
  mutable std::mutex error_mutex_;
  std::optional<std::string> error_;
  int fd_ = -1;
  std::thread thread_;
};

}  // namespace kumasim::scenario
