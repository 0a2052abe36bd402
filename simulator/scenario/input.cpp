#include "simulator/scenario/input.h"

#include "simulator/frame_recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace kumasim::scenario {
namespace {

constexpr std::size_t kWriteChunk = 64 * 1024;

replay::Pacer pacer_for(const InputSpec& spec) {
  switch (spec.pace) {
    case InputSpec::Pace::rate: return replay::Pacer(replay::Pacer::Rate{spec.rate});
    case InputSpec::Pace::recorded: return replay::Pacer(replay::Pacer::Recorded{spec.speed});
    case InputSpec::Pace::all: break;
  }
  return replay::Pacer();
}

}  // namespace

void for_each_input_line(const std::vector<InputSpec>& input,
                         const std::function<void(std::string_view, const InputSpec&)>& line) {
  for (const auto& spec : input) {
    std::uint64_t taken = 0;
    for (std::uint64_t round = 0; round < spec.repeat; ++round) {
      std::ifstream in(spec.file, std::ios::binary);
      if (!in) throw std::runtime_error(spec.file + ": cannot read: " + std::strerror(errno));
      std::string text;
      while ((spec.limit == 0 || taken < spec.limit) && std::getline(in, text)) {
        ++taken;
        line(text, spec);
      }
      if (in.bad()) throw std::runtime_error(spec.file + ": read error");
    }
  }
}

std::uint64_t text_hash(std::string_view text) {
  // FNV-1a, 64 bits: stable across runs and platforms, unlike std::hash.
  std::uint64_t h = 1469598103934665603ull;
  for (const unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return h;
}

InputCatalog::InputCatalog(const std::vector<InputSpec>& input, const std::vector<const expect::Selector*>& selectors)
    : input_(input), selected_(selectors.size()), selected_counts_(selectors.size()) {
  for_each_input_line(input, [&](std::string_view text, const InputSpec&) {
    hashes_.push_back(text_hash(text));
    const bool needs_json = std::any_of(selectors.begin(), selectors.end(), [](auto* s) { return s != nullptr; });
    const auto record = needs_json ? nlohmann::json::parse(text, nullptr, false) : nlohmann::json();
    for (std::size_t k = 0; k < selectors.size(); ++k) {
      // A line that is not JSON has no fields: only matchers on missing fields hold for it.
      const bool chosen = !selectors[k] || selectors[k]->matches(record.is_discarded() ? nlohmann::json::object() : record);
      selected_[k].push_back(chosen);
      selected_counts_[k] += chosen;
    }
  });
  by_hash_.reserve(hashes_.size());
  for (std::uint32_t i = 0; i < hashes_.size(); ++i) by_hash_.emplace_back(hashes_[i], i);
  std::sort(by_hash_.begin(), by_hash_.end());
}

std::vector<std::uint32_t> InputCatalog::lines_with(std::uint64_t hash) const {
  std::vector<std::uint32_t> out;
  auto it = std::lower_bound(by_hash_.begin(), by_hash_.end(), std::make_pair(hash, std::uint32_t{0}));
  for (; it != by_hash_.end() && it->first == hash; ++it) out.push_back(it->second);
  return out;
}

std::string InputCatalog::text_of(std::uint32_t line) const {
  std::string found;
  std::uint32_t index = 0;
  for_each_input_line(input_, [&](std::string_view text, const InputSpec&) {
    if (index++ == line) found = text;
  });
  return found;
}

InputWriter::InputWriter(std::vector<InputSpec> input, std::filesystem::path audit_log, std::uint64_t lines)
    : input_(std::move(input)), path_(std::move(audit_log)), written_ns_(new std::atomic<std::int64_t>[lines]) {
  for (std::uint64_t i = 0; i < lines; ++i) written_ns_[i].store(0, std::memory_order_relaxed);
}

InputWriter::~InputWriter() {
  stop_.raise();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

void InputWriter::create() {
  std::filesystem::create_directories(path_.parent_path());
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(path_.string() + ": cannot create: " + std::strerror(errno));
}

void InputWriter::start() {
  if (fd_ < 0) create();
  thread_ = std::thread([this] { run(); });
}

std::optional<std::string> InputWriter::error() const {
  std::lock_guard lock(error_mutex_);
  return error_;
}

// One write() for the buffer, as the API server writes whole events; then
// the lines in it count as written.
void InputWriter::write_out(std::string& buffer, std::uint32_t first, std::uint32_t end) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    const auto n = ::write(fd_, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw std::runtime_error(path_.string() + ": write failed: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  buffer.clear();
  const auto at = sim::now_ns();
  for (std::uint32_t i = first; i < end; ++i) written_ns_[i].store(at, std::memory_order_relaxed);
  written_.store(end, std::memory_order_release);
}

// As logrotate's create mode: the file is renamed (audit.log.1, .2, … so no
// rotated file is overwritten while the shipper may still read it) and a new
// one takes its name.
void InputWriter::rotate() {
  const auto n = rotations_.load(std::memory_order_relaxed) + 1;
  auto rotated = path_;
  rotated += "." + std::to_string(n);
  if (::rename(path_.c_str(), rotated.c_str()) != 0) {
    throw std::runtime_error(path_.string() + ": cannot rotate: " + std::strerror(errno));
  }
  ::close(fd_);
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw std::runtime_error(path_.string() + ": cannot create: " + std::strerror(errno));
  rotations_.store(n, std::memory_order_relaxed);
}

void InputWriter::run() {
  try {
    std::string buffer;
    std::uint32_t index = 0, first_buffered = 0;
    std::uint64_t of_this_input = 0;  // rotate_after counts the lines of its own input entry
    const InputSpec* current = nullptr;
    replay::Pacer pacer;
    std::vector<std::uint64_t> rotate_after;
    for_each_input_line(input_, [&](std::string_view text, const InputSpec& from) {
      if (stop_.raised()) throw std::runtime_error("");  // the runner gave up: unwind quietly
      if (&from != current) {
        write_out(buffer, first_buffered, index);  // the previous entry's lines go before any wait
        first_buffered = index;
        current = &from;
        of_this_input = 0;
        pacer = pacer_for(from);
        rotate_after.assign(from.rotate_after.rbegin(), from.rotate_after.rend());  // a stack, smallest last
      }
      if (!pacer.wait(text, stop_)) throw std::runtime_error("");
      buffer.append(text).push_back('\n');
      ++index;
      ++of_this_input;
      const bool rotating = !rotate_after.empty() && of_this_input == rotate_after.back();
      if (from.pace != InputSpec::Pace::all || rotating || buffer.size() >= kWriteChunk) {
        write_out(buffer, first_buffered, index);
        first_buffered = index;
      }
      if (rotating) {
        rotate_after.pop_back();
        rotate();
      }
    });
    write_out(buffer, first_buffered, index);
  } catch (const std::exception& e) {
    if (!stop_.raised()) {
      std::lock_guard lock(error_mutex_);
      error_ = e.what();
    }
  }
  done_.store(true, std::memory_order_release);
}

}  // namespace kumasim::scenario
