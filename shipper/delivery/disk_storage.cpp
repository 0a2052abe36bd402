#include "shipper/delivery/disk_storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace kumasim::shipper {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kHeaderBytes = 3 * sizeof(std::uint32_t);
constexpr std::size_t kReadChunk = 64 * 1024;
constexpr auto kCursorInterval = std::chrono::milliseconds(100);
constexpr std::string_view kSegmentSuffix = ".seg";
constexpr std::size_t kSegmentDigits = 20;

// Small segments for small buffers, so that space comes back soon after it
// is delivered; large enough that rolling over is rare.
std::uint64_t segment_limit(std::uint64_t max_bytes) {
  constexpr std::uint64_t kMin = 64 * 1024, kMax = 16 * 1024 * 1024;
  return max_bytes == 0 ? kMax : std::clamp(max_bytes / 8, kMin, kMax);
}

std::uint64_t record_size(const Message& message) {
  return kHeaderBytes + (message.key ? message.key->size() : 0) + message.topic.size() + message.payload.size();
}

std::uint32_t read_u32(const char* p) {
  std::uint32_t value;
  std::memcpy(&value, p, sizeof value);
  return value;
}

// "00000000000000000042.seg" -> 42; anything else is not a segment.
std::optional<std::uint64_t> segment_id(const std::string& name) {
  if (name.size() != kSegmentDigits + kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return std::nullopt;
  std::uint64_t id = 0;
  for (std::size_t i = 0; i < kSegmentDigits; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    id = id * 10 + static_cast<std::uint64_t>(name[i] - '0');
  }
  return id;
}

}  // namespace

DiskStorage::DiskStorage(std::string dir, std::uint64_t max_bytes, std::function<void(const std::string&)> log)
    : dir_(std::move(dir)), max_bytes_(max_bytes), segment_limit_(segment_limit(max_bytes)), log_(std::move(log)) {
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) throw std::runtime_error("cannot create the disk buffer directory " + dir_ + ": " + error.message());
  lock_directory();
  scan_segments();
  read_cursor();
  start_segment(segments_.empty() ? 1 : segments_.rbegin()->first + 1);
  // Normalise the cursor: it may name a segment that was consumed and
  // deleted, or one that was empty and removed by scan_segments().
  auto first = segments_.lower_bound(committed_.segment);
  if (first == segments_.end()) first = std::prev(segments_.end());
  if (first->first != committed_.segment) committed_ = {first->first, 0};
  committed_.offset = std::min(committed_.offset, first->second);
  for (auto it = segments_.begin(); it->first < committed_.segment;) {
    fs::remove(segment_path(it->first), error);
    it = segments_.erase(it);
  }
  for (const auto& [id, size] : segments_) bytes_ += size;
  bytes_ -= committed_.offset;
  read_ = committed_;
}

DiskStorage::~DiskStorage() = default;

// Two shippers appending to one directory would interleave records.
void DiskStorage::lock_directory() {
  const std::string path = dir_ + "/lock";
  lock_ = Fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock_) throw std::runtime_error("cannot open " + path + ": " + errno_text(errno));
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0)
    throw std::runtime_error("the disk buffer " + dir_ + " is in use by another shipper (" + errno_text(errno) + ")");
}

// Empty segments are left by runs that buffered nothing; they are removed so
// that restarts do not pile them up.
void DiskStorage::scan_segments() {
  std::error_code error;
  for (const auto& item : fs::directory_iterator(dir_, error)) {
    const auto id = segment_id(item.path().filename().string());
    if (!id) continue;
    const auto size = item.file_size(error);
    if (error) throw std::runtime_error("cannot read the size of " + item.path().string() + ": " + error.message());
    if (size == 0)
      fs::remove(item.path(), error);
    else
      segments_[*id] = size;
  }
  if (error) throw std::runtime_error("cannot list the disk buffer directory " + dir_ + ": " + error.message());
}

// A missing or unreadable cursor means nothing was delivered yet: start at
// the oldest segment. That may send some messages twice; it loses none.
void DiskStorage::read_cursor() {
  committed_ = {segments_.empty() ? 0 : segments_.begin()->first, 0};
  std::ifstream in(dir_ + "/cursor");
  std::uint64_t segment = 0, offset = 0;
  if (in >> segment >> offset) committed_ = {segment, offset};
}

std::string DiskStorage::segment_path(std::uint64_t id) const {
  std::array<char, kSegmentDigits + 1> digits{};
  std::snprintf(digits.data(), digits.size(), "%020" PRIu64, id);
  return dir_ + "/" + digits.data() + std::string(kSegmentSuffix);
}

void DiskStorage::start_segment(std::uint64_t id) {
  const std::string path = segment_path(id);
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) throw std::runtime_error("cannot create the disk buffer segment " + path + ": " + errno_text(errno));
  if (write_fd_) ::fdatasync(write_fd_.get());
  write_fd_ = std::move(fd);
  write_segment_ = id;
  segments_[id] = 0;
}

std::uint64_t DiskStorage::segment_size(std::uint64_t id) const { return segments_.at(id); }

bool DiskStorage::has_room(const Message& message) const {
  return bytes_ == 0 || max_bytes_ == 0 || bytes_ + record_size(message) <= max_bytes_;
}

std::optional<std::string> DiskStorage::append(Message&& message) {
  const std::uint64_t size = record_size(message);
  if (!write_fd_ || (segment_size(write_segment_) != 0 && segment_size(write_segment_) + size > segment_limit_)) {
    try {
      start_segment(write_segment_ + 1);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
  }
  std::uint64_t& written = segments_[write_segment_];
  const std::array<std::uint32_t, 3> header{message.key ? static_cast<std::uint32_t>(message.key->size() + 1) : 0,
                                            static_cast<std::uint32_t>(message.topic.size()),
                                            static_cast<std::uint32_t>(message.payload.size())};
  std::array<iovec, 4> parts{{
      {const_cast<std::uint32_t*>(header.data()), kHeaderBytes},
      {message.key ? message.key->data() : nullptr, message.key ? message.key->size() : 0},
      {message.topic.data(), message.topic.size()},
      {message.payload.data(), message.payload.size()},
  }};
  const ssize_t n = ::writev(write_fd_.get(), parts.data(), parts.size());
  if (n == static_cast<ssize_t>(size)) {
    written += size;
    bytes_ += size;
    return std::nullopt;
  }
  const std::string why = "cannot write to " + segment_path(write_segment_) + ": " +
                          (n < 0 ? errno_text(errno) : std::string("short write"));
  // A partial record left in the segment would shift every later one; when
  // it cannot be cut off, the segment is closed and the next append starts a
  // new one (a restart then skips the partial record at its end).
  if (n > 0 && ::ftruncate(write_fd_.get(), static_cast<off_t>(written)) != 0) write_fd_.reset();
  return why;
}

bool DiskStorage::read_at_end() const { return read_.segment == write_segment_ && read_.offset == segment_size(write_segment_); }

bool DiskStorage::empty() const { return retry_.empty() && read_at_end(); }

void DiskStorage::skip_rest_of_segment(const std::string& why) {
  const std::uint64_t size = segment_size(read_.segment);
  if (read_.offset < size) log_("disk buffer " + segment_path(read_.segment) + ": " + why + "; skipping its last " +
                                std::to_string(size - read_.offset) + " bytes");
  read_ = {segments_.upper_bound(read_.segment)->first, 0};
  read_fd_.reset();
  buffered_ = 0;
}

// `size` bytes of the read segment from read_.offset on, read ahead in chunks
// so that small records cost no system call each. nullptr on a read error.
const char* DiskStorage::fetch(std::size_t size) {
  if (read_fd_ && read_.offset >= buffered_from_ && read_.offset + size <= buffered_from_ + buffered_)
    return read_buffer_.data() + (read_.offset - buffered_from_);
  if (!read_fd_) {
    read_fd_ = Fd(::open(segment_path(read_.segment).c_str(), O_RDONLY | O_CLOEXEC));
    if (!read_fd_) return nullptr;
  }
  read_buffer_.resize(std::max(size, kReadChunk));
  const ssize_t n = ::pread(read_fd_.get(), read_buffer_.data(), read_buffer_.size(), static_cast<off_t>(read_.offset));
  buffered_from_ = read_.offset;
  buffered_ = n < 0 ? 0 : static_cast<std::size_t>(n);
  if (buffered_ >= size) return read_buffer_.data();
  if (n >= 0) errno = ENODATA;  // the file is shorter than written: cut by someone else
  return nullptr;
}

bool DiskStorage::next(Entry& out) {
  if (!retry_.empty()) {
    out = retry_.pop_front();
    return true;
  }
  while (!read_at_end()) {
    const std::uint64_t available = segment_size(read_.segment) - read_.offset;
    const bool last = read_.segment == write_segment_;
    if (available < kHeaderBytes) {
      skip_rest_of_segment("incomplete record at the end");
      continue;
    }
    const char* header = fetch(kHeaderBytes);
    if (header == nullptr) {
      skip_rest_of_segment("cannot read: " + errno_text(errno));
      continue;
    }
    const std::uint32_t key_field = read_u32(header), topic_size = read_u32(header + 4),
                        payload_size = read_u32(header + 8);
    const std::uint64_t key_size = key_field == 0 ? 0 : key_field - 1;
    const std::uint64_t size = kHeaderBytes + key_size + topic_size + payload_size;
    if (size > available) {
      // append() never leaves a partial record in the segment it writes.
      if (last) return false;
      skip_rest_of_segment("incomplete record at the end");
      continue;
    }
    const char* record = fetch(size);
    if (record == nullptr) {
      skip_rest_of_segment("cannot read: " + errno_text(errno));
      continue;
    }
    const char* p = record + kHeaderBytes;
    if (key_field == 0)
      out.message.key.reset();
    else
      out.message.key.emplace(p, key_size);
    p += key_size;
    out.message.topic.assign(p, topic_size);
    out.message.payload.assign(p + topic_size, payload_size);
    out.message.sequence = 0;
    read_.offset += size;
    out.end = read_;
    return true;
  }
  return false;
}

void DiskStorage::put_back(Entry&& entry) { retry_.push_front(std::move(entry)); }

// Space comes back as the cursor moves; whole segments behind it are deleted.
void DiskStorage::commit(const Entry& entry) {
  const DiskPosition to = entry.end;
  bool deleted = false;
  while (segments_.begin()->first < to.segment) {
    const auto [id, size] = *segments_.begin();
    bytes_ -= size - (id == committed_.segment ? committed_.offset : 0);
    std::error_code error;
    fs::remove(segment_path(id), error);
    segments_.erase(segments_.begin());
    deleted = true;
  }
  bytes_ -= to.offset - (to.segment == committed_.segment ? committed_.offset : 0);
  committed_ = to;
  cursor_dirty_ = true;
  if (deleted || std::chrono::steady_clock::now() - cursor_written_ >= kCursorInterval) write_cursor();
}

void DiskStorage::write_cursor() {
  const std::string path = dir_ + "/cursor", temporary = path + ".tmp";
  bool ok = false;
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << committed_.segment << ' ' << committed_.offset << '\n';
    ok = static_cast<bool>(out.flush());
  }
  ok = ok && std::rename(temporary.c_str(), path.c_str()) == 0;
  cursor_written_ = std::chrono::steady_clock::now();
  cursor_dirty_ = !ok;
  if (!ok && !std::exchange(cursor_failing_, true))
    log_("cannot write the disk buffer cursor " + path + ": " + errno_text(errno) +
         "; messages may be sent again after a restart");
  if (ok) cursor_failing_ = false;
}

// Releases the directory too, so that a new delivery may take it over
// while this one still exists.
void DiskStorage::close() {
  if (cursor_dirty_) write_cursor();
  if (write_fd_) ::fdatasync(write_fd_.get());
  write_fd_.reset();
  read_fd_.reset();
  lock_.reset();
}

}  // namespace kumasim::shipper
