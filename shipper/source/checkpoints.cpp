#include "shipper/source/checkpoints.h"

#include "formats/base64.h"
#include "formats/utf8.h"
#include "shipper/fd.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <unistd.h>

namespace kumasim::shipper {
namespace {

constexpr int kFormatVersion = 1;

std::string checkpoint_file(const std::string& data_dir) { return data_dir + "/checkpoints.json"; }

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string to_hex(std::uint64_t value) {
  char digits[16];
  const auto end = std::to_chars(digits, digits + sizeof digits, value, 16).ptr;
  const auto length = static_cast<std::size_t>(end - digits);
  return std::string(sizeof digits - length, '0') + std::string(digits, length);
}

std::uint64_t unsigned_field(const nlohmann::json& entry, const char* key) {
  const auto& value = entry.at(key);
  if (!value.is_number_unsigned()) throw std::invalid_argument(std::string(key) + " is not an unsigned integer");
  return value.get<std::uint64_t>();
}

std::string path_from_json(const nlohmann::json& entry) {
  if (!entry.contains("path_base64")) return entry.at("path").get<std::string>();
  auto bytes = formats::base64_decode(entry.at("path_base64").get<std::string>());
  if (!bytes) throw std::invalid_argument("path_base64 is not base64");
  return std::move(*bytes);
}

Checkpoint checkpoint_from_json(const nlohmann::json& entry) {
  Checkpoint checkpoint;
  checkpoint.identity = {unsigned_field(entry, "device"), unsigned_field(entry, "inode")};
  checkpoint.path = path_from_json(entry);
  checkpoint.fingerprint_bytes = unsigned_field(entry, "fingerprint_bytes");
  checkpoint.offset = unsigned_field(entry, "offset");
  const auto hex = entry.at("fingerprint").get<std::string>();
  const auto [end, error] = std::from_chars(hex.data(), hex.data() + hex.size(), checkpoint.fingerprint, 16);
  if (hex.size() != 16 || error != std::errc{} || end != hex.data() + hex.size()) {
    throw std::invalid_argument("fingerprint \"" + hex + "\" is not 16 hex digits");
  }
  if (checkpoint.fingerprint_bytes > std::min<std::uint64_t>(checkpoint.offset, kFingerprintBytes)) {
    throw std::invalid_argument("fingerprint_bytes exceeds min(offset, 256)");
  }
  return checkpoint;
}

// File names are bytes, JSON strings Unicode: dumping a name that is not
// UTF-8 as it is would throw (nlohmann type_error 316).
nlohmann::json checkpoint_to_json(const Checkpoint& checkpoint) {
  std::string readable;
  formats::utf8::append_lossy(checkpoint.path, readable);
  nlohmann::json entry{{"path", std::move(readable)},
                       {"device", checkpoint.identity.device},
                       {"inode", checkpoint.identity.inode},
                       {"fingerprint_bytes", checkpoint.fingerprint_bytes},
                       {"fingerprint", to_hex(checkpoint.fingerprint)},
                       {"offset", checkpoint.offset}};
  if (!formats::utf8::is_valid(checkpoint.path)) entry["path_base64"] = formats::base64_encode(checkpoint.path);
  return entry;
}

std::string render(const std::vector<Checkpoint>& checkpoints) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& checkpoint : checkpoints) list.push_back(checkpoint_to_json(checkpoint));
  const nlohmann::json document{{"version", kFormatVersion}, {"checkpoints", std::move(list)}};
  return document.dump(2) + "\n";
}

// The file's text, or nullopt when it does not exist (the first start).
std::optional<std::string> read_file(const std::string& path) {
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::nullopt;
    throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  }
  std::string text;
  char chunk[65536];
  for (;;) {
    const ssize_t got = ::read(fd.get(), chunk, sizeof chunk);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw std::runtime_error(path + ": cannot read: " + std::strerror(errno));
    if (got == 0) return text;
    text.append(chunk, static_cast<std::size_t>(got));
  }
}

std::vector<Checkpoint> load(const std::string& path) {
  const auto text = read_file(path);
  if (!text) return {};
  std::vector<Checkpoint> checkpoints;
  try {
    const auto document = nlohmann::json::parse(*text);
    if (document.at("version") != kFormatVersion) {
      throw std::invalid_argument("version " + document.at("version").dump() + " is not supported");
    }
    for (const auto& entry : document.at("checkpoints")) checkpoints.push_back(checkpoint_from_json(entry));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not a checkpoint file: " + e.what());
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": not a checkpoint file: " + e.what());
  }
  return checkpoints;
}

void write_all(int fd, std::string_view text, const std::string& path) {
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) throw_errno("cannot write " + path);
    text.remove_prefix(static_cast<std::size_t>(written));
  }
}

// A crash leaves either the old file or the new one, never a torn one.
void replace_atomically(const std::string& dir, const std::string& path, std::string_view text) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) throw std::system_error(error, "cannot create the checkpoint directory " + dir);
  const std::string temporary = path + ".tmp";
  {
    Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd) throw_errno("cannot create " + temporary);
    write_all(fd.get(), text, temporary);
    if (::fsync(fd.get()) != 0) throw_errno("cannot fsync " + temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) throw_errno("cannot rename " + temporary + " to " + path);
  // The rename itself is durable only once the directory is synced.
  const Fd directory(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directory || ::fsync(directory.get()) != 0) throw_errno("cannot fsync the directory " + dir);
}

}  // namespace

std::uint64_t fingerprint(std::string_view first_bytes) {
  std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64
  for (const char c : first_bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

CheckpointTable::CheckpointTable(const std::string& data_dir) : data_dir_(data_dir) {
  if (data_dir_.empty()) return;
  for (auto& checkpoint : load(checkpoint_file(data_dir_))) saved_[checkpoint.identity] = std::move(checkpoint);
}

std::optional<Checkpoint> CheckpointTable::claim(const FileIdentity& identity) {
  std::lock_guard lock(mutex_);
  const auto it = saved_.find(identity);
  if (it == saved_.end()) return std::nullopt;
  Checkpoint checkpoint = std::move(it->second);
  saved_.erase(it);
  return checkpoint;
}

void CheckpointTable::discovery_done(const Unopened& unopened) {
  std::lock_guard lock(mutex_);
  std::erase_if(saved_, [&](const auto& entry) {
    const Checkpoint& checkpoint = entry.second;
    return !unopened.identities.contains(checkpoint.identity) && !unopened.paths.contains(checkpoint.path);
  });
}

void CheckpointTable::track(std::uint64_t file_id, const FileIdentity& identity, const std::string& path,
                            std::string prefix, std::uint64_t offset) {
  if (data_dir_.empty()) return;
  std::lock_guard lock(mutex_);
  records_[file_id] = Record{identity, path, std::move(prefix), offset, false, 0};
}

void CheckpointTable::extend_prefix(std::uint64_t file_id, std::string_view bytes) {
  if (data_dir_.empty()) return;
  std::lock_guard lock(mutex_);
  const auto it = records_.find(file_id);
  if (it == records_.end()) return;
  auto& prefix = it->second.prefix;
  prefix.append(bytes.substr(0, kFingerprintBytes - std::min(prefix.size(), kFingerprintBytes)));
}

void CheckpointTable::rename(std::uint64_t file_id, const std::string& path) {
  if (data_dir_.empty()) return;
  std::lock_guard lock(mutex_);
  const auto it = records_.find(file_id);
  if (it != records_.end()) it->second.path = path;
}

void CheckpointTable::commit(std::uint64_t file_id, std::uint64_t offset) {
  if (data_dir_.empty()) return;
  std::lock_guard lock(mutex_);
  const auto it = records_.find(file_id);
  if (it == records_.end()) return;  // truncated, or retired and already forgotten
  auto& record = it->second;
  record.committed = std::max(record.committed, offset);  // deliveries may complete out of order
  if (record.retired && record.committed >= record.last_line_end) erase_retired(it);
}

void CheckpointTable::retire(std::uint64_t file_id, std::uint64_t last_line_end) {
  if (data_dir_.empty()) return;
  std::lock_guard lock(mutex_);
  const auto it = records_.find(file_id);
  if (it == records_.end()) return;
  if (it->second.committed >= last_line_end) {
    records_.erase(it);
    return;
  }
  it->second.retired = true;
  it->second.last_line_end = last_line_end;
  if (++retired_ <= kMaxRetired) return;
  // A consumer that never commits some lines must not make this grow forever:
  // the oldest closed file goes first.
  auto oldest = records_.end();
  for (auto candidate = records_.begin(); candidate != records_.end(); ++candidate) {
    if (candidate->second.retired && (oldest == records_.end() || candidate->first < oldest->first)) oldest = candidate;
  }
  erase_retired(oldest);
}

void CheckpointTable::forget(std::uint64_t file_id) {
  if (data_dir_.empty()) return;
  std::lock_guard lock(mutex_);
  const auto it = records_.find(file_id);
  if (it == records_.end()) return;
  if (it->second.retired) --retired_;
  records_.erase(it);
}

void CheckpointTable::erase_retired(std::unordered_map<std::uint64_t, Record>::iterator it) {
  records_.erase(it);
  --retired_;
}

std::vector<Checkpoint> CheckpointTable::snapshot() const {
  std::lock_guard lock(mutex_);
  // One entry per identity: when an inode was reused, the newest file (the
  // highest id) is the one on disk now.
  std::map<FileIdentity, std::pair<std::uint64_t, Checkpoint>> newest;
  for (const auto& [file_id, record] : records_) {
    if (record.committed == 0) continue;
    const std::size_t bytes = std::min<std::uint64_t>({record.committed, record.prefix.size(), kFingerprintBytes});
    Checkpoint checkpoint{record.identity, record.path, bytes,
                          fingerprint(std::string_view(record.prefix).substr(0, bytes)), record.committed};
    const auto [it, inserted] = newest.try_emplace(record.identity, file_id, checkpoint);
    if (!inserted && it->second.first < file_id) it->second = {file_id, std::move(checkpoint)};
  }
  std::vector<Checkpoint> checkpoints;
  for (auto& [identity, entry] : newest) checkpoints.push_back(std::move(entry.second));
  // Saved before the first discovery: keep what was loaded.
  for (const auto& [identity, checkpoint] : saved_) {
    if (!newest.contains(identity)) checkpoints.push_back(checkpoint);
  }
  return checkpoints;
}

std::optional<std::string> CheckpointTable::save() const {
  if (data_dir_.empty()) return std::nullopt;
  try {
    std::string text = render(snapshot());
    std::lock_guard lock(save_mutex_);
    if (text == last_saved_) return std::nullopt;  // the caller saves periodically: no fsync when nothing moved
    replace_atomically(data_dir_, checkpoint_file(data_dir_), text);
    last_saved_ = std::move(text);
  } catch (const std::exception& e) {  // std::system_error from the file system (ENOSPC, EMFILE...), std::bad_alloc
    return e.what();
  }
  return std::nullopt;
}

}  // namespace kumasim::shipper
