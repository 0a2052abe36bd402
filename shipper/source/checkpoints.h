// Checkpoints of the File source: how far each file's lines are delivered,
// kept across restarts in data_dir/checkpoints.json.
//
// A file is recognised by its (device, inode) AND a fingerprint of its first
// bytes: inode numbers are reused after a delete, so the identity alone could
// resume a new file in the middle. The fingerprint is FNV-1a 64 of the first
// min(offset, 256) bytes, the length saved along with it (a file that was
// still short when saved is fingerprinted over what it had). Vector uses a
// checksum of the first line instead, which fails for files whose first lines
// are identical (every audit log starts differently, but not every log does).
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace kumasim::shipper {

struct FileIdentity {
  std::uint64_t device = 0, inode = 0;
  auto operator<=>(const FileIdentity&) const = default;
};

inline constexpr std::size_t kFingerprintBytes = 256;

std::uint64_t fingerprint(std::string_view first_bytes);

// In the file, `path` is shown with U+FFFD for bytes that are not UTF-8 (JSON
// strings are Unicode), and such a path is also kept exactly in `path_base64`.
struct Checkpoint {
  FileIdentity identity;
  std::string path;  // node path when saved: for people reading the file, and Unopened::paths
  std::uint64_t fingerprint_bytes = 0, fingerprint = 0;
  std::uint64_t offset = 0;  // every line before it is delivered
};

// Files a discovery matched but could not open, for a reason that may pass
// (EACCES until the mode is fixed, EMFILE): their saved checkpoints must wait
// rather than be dropped, or the file would be read again from the start.
struct Unopened {
  std::set<FileIdentity> identities;  // stat() worked, open() did not
  std::set<std::string> paths;        // not even stat() worked: only the node path is known
};

// Thread-safe: the reader registers files while another thread may commit
// and save.
class CheckpointTable {
 public:
  // Loads data_dir/checkpoints.json ("" data_dir: no checkpoints, every call
  // is a no-op). Throws std::runtime_error naming the file when it exists but
  // cannot be read or is not a checkpoint file: silently starting over would
  // send everything again.
  explicit CheckpointTable(const std::string& data_dir);

  // The saved checkpoint of `identity`, handed out once; the caller checks the fingerprint.
  std::optional<Checkpoint> claim(const FileIdentity& identity);
  // A discovery is over: the saved checkpoints no file claimed are dropped
  // (their files are gone, or no longer matched), except those of `unopened`
  // files, kept until a discovery opens them or no longer matches them.
  void discovery_done(const Unopened& unopened);

  // A file is read from `offset`; `prefix` holds its first min(offset, 256) bytes.
  void track(std::uint64_t file_id, const FileIdentity& identity, const std::string& path, std::string prefix,
             std::uint64_t offset);
  // Bytes read at file offset `prefix.size()`, while it is below 256.
  void extend_prefix(std::uint64_t file_id, std::string_view bytes);
  void rename(std::uint64_t file_id, const std::string& path);
  void commit(std::uint64_t file_id, std::uint64_t offset);
  // The file is closed and its last line ends at `last_line_end`: forgotten
  // once committed that far (at most kMaxRetired wait for their commits).
  void retire(std::uint64_t file_id, std::uint64_t last_line_end);
  // The file's content is gone (truncated): its positions mean nothing now.
  void forget(std::uint64_t file_id);

  // Writes every committed position atomically (temporary file, fsync,
  // rename, fsync of the directory), unless nothing changed since the last
  // save. Returns the error, naming the file, rather than throwing: the
  // caller saves periodically and goes on, and since nothing is forgotten the
  // next save writes it all again.
  std::optional<std::string> save() const;

  static constexpr std::size_t kMaxRetired = 1024;

 private:
  struct Record {
    FileIdentity identity;
    std::string path, prefix;
    std::uint64_t committed = 0;
    bool retired = false;
    std::uint64_t last_line_end = 0;  // once retired
  };
  std::vector<Checkpoint> snapshot() const;
  void erase_retired(std::unordered_map<std::uint64_t, Record>::iterator it);

  std::string data_dir_;  // "": disabled
  mutable std::mutex mutex_;
  mutable std::mutex save_mutex_;  // one writer of the temporary file at a time
  mutable std::string last_saved_;  // under save_mutex_
  std::map<FileIdentity, Checkpoint> saved_;  // loaded, not claimed (yet)
  std::unordered_map<std::uint64_t, Record> records_;  // by file id
  std::size_t retired_ = 0;
};

}  // namespace kumasim::shipper
