#include "shipper/source/file_source.h"

#include "shipper/source/checkpoints.h"
#include "shipper/fd.h"
#include "shipper/source/line_splitter.h"
#include "shipper/source/node_tree.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace kumasim::shipper {
namespace {

// One read() per file and turn; lines inside it are handed out without a copy.
constexpr std::size_t kReadBufferBytes = 256 * 1024;

using LineSink = std::function<void(const Line&)>;
using ErrorSink = std::function<void(const std::string&)>;

FileIdentity identity_of(const struct stat& status) {
  return {static_cast<std::uint64_t>(status.st_dev), static_cast<std::uint64_t>(status.st_ino)};
}

std::string failure(const std::string& path, const char* what, int error) {
  return path + ": " + what + ": " + std::strerror(error);
}

// An open file, from its discovery until it is no longer matched and has
// been read to its end (then closed).
struct TrackedFile {
  TrackedFile(std::uint64_t file_id, FileIdentity file_identity, std::string node_path, Fd descriptor,
              std::uint64_t start, const std::string& delimiter, std::size_t max_line_bytes)
      : id(file_id), identity(file_identity), path(std::move(node_path)), fd(std::move(descriptor)), offset(start),
        last_line_end(start), splitter(delimiter, max_line_bytes) {}

  std::uint64_t id;  // a new one when truncated: positions in the old content mean nothing
  FileIdentity identity;
  std::string path;  // node path where the last discovery found it
  Fd fd;
  std::uint64_t offset;         // next byte to read
  std::uint64_t last_line_end;  // end of the last line handed out
  LineSplitter splitter;
  // Rotation: the file that had this path before; it is read to its end first
  // so the lines of one path come out in order.
  const TrackedFile* waits_for = nullptr;
  bool at_eof = false;    // the last read found nothing more
  bool findable = true;   // matched by the last discovery; if not, read to the end and closed
  bool vanish_reported = false;
  bool failed = false;  // a read failed: retried after the next discovery
  std::string error;    // the last error reported, so that a persisting one is reported once
  bool closed = false;  // removed at the end of the poll
};

}  // namespace

struct FileSource::Impl {
  Impl(const Source& source, FileSourceOptions file_options);

  std::size_t poll(const LineSink& on_line, const ErrorSink& on_error, std::size_t max_bytes);
  bool at_end() const;

  struct Found {
    std::string path;
    FileIdentity identity;
  };
  void discover(const ErrorSink& on_error);
  std::vector<Found> regular_files(const std::vector<std::string>& paths, Unopened& unopened,
                                   const ErrorSink& on_error);
  std::map<std::string, TrackedFile*> relocate(const std::vector<Found>& found);
  void let_go_of_unfound(const std::vector<Found>& found, const ErrorSink& on_error);
  bool open_file(const std::string& path, TrackedFile* predecessor, const ErrorSink& on_error);
  std::uint64_t resume_offset(int fd, const FileIdentity& identity, std::uint64_t size, std::string& prefix);
  bool tracked(const FileIdentity& identity) const;
  void report(std::string& last, const std::string& message, const ErrorSink& on_error);

  struct Step {
    std::size_t bytes = 0;
    bool changed = false;  // something happened that may let another read go on
  };
  std::size_t read_round(std::size_t budget, const LineSink& on_line, const ErrorSink& on_error);
  Step read_once(TrackedFile& file, std::size_t limit, const LineSink& on_line, const ErrorSink& on_error);
  bool reached_end(TrackedFile& file, const LineSink& on_line, const ErrorSink& on_error);
  void consume(TrackedFile& file, std::string_view data, const LineSink& on_line);
  bool emit_tail(TrackedFile& file, const LineSink& on_line);
  void emit(TrackedFile& file, std::string_view bytes, std::uint64_t end, const LineSink& on_line);
  void restart_truncated(TrackedFile& file);
  void close(TrackedFile& file);
  void sweep();
  bool all_read() const;

  Source spec;
  FileSourceOptions options;
  NodeTree tree;
  CheckpointTable checkpoints;
  std::vector<std::unique_ptr<TrackedFile>> files;  // in discovery order: older first
  std::map<std::string, std::string> path_errors;   // matched paths that cannot be opened: the last error
  std::vector<char> buffer;
  FileSourceCounters counters;
  std::uint64_t next_id = 1;
  std::size_t cursor = 0;  // the file read first, turning each poll so a busy file cannot starve the others
  std::optional<std::chrono::steady_clock::time_point> last_discovery;
  bool settled = false;  // the last poll globbed and then read every file to its end
};

FileSource::Impl::Impl(const Source& source, FileSourceOptions file_options)
    : spec(source), options(std::move(file_options)), tree(options.root, spec.include, spec.exclude),
      checkpoints(options.data_dir), buffer(kReadBufferBytes) {
  if (spec.line_delimiter.empty()) throw std::invalid_argument("source " + spec.name + ": lineDelimiter is empty");
}

std::size_t FileSource::Impl::poll(const LineSink& on_line, const ErrorSink& on_error, std::size_t max_bytes) {
  bool discovered = false;
  if (!last_discovery || std::chrono::steady_clock::now() - *last_discovery >= options.discovery_interval) {
    discover(on_error);
    discovered = true;
  }
  std::size_t consumed = read_round(max_bytes, on_line, on_error);
  // Caught up: look for new, rotated and vanished files now rather than
  // later, so that at_end() speaks for what is on disk at this moment.
  if (!discovered && all_read()) {
    discover(on_error);
    discovered = true;
    consumed += read_round(max_bytes - consumed, on_line, on_error);
  }
  sweep();
  settled = discovered && all_read();
  return consumed;
}

bool FileSource::Impl::at_end() const {
  if (!settled) return false;
  // Something may have been appended since the poll.
  return std::all_of(files.begin(), files.end(), [](const auto& file) {
    struct stat status {};
    return file->failed ||
           (::fstat(file->fd.get(), &status) == 0 && static_cast<std::uint64_t>(status.st_size) == file->offset);
  });
}

// Globs, then matches what it found with the open files by identity: a file
// found under another path was renamed; a tracked file not found is read to
// its end and closed; a new identity at a tracked file's path is a rotation.
void FileSource::Impl::discover(const ErrorSink& on_error) {
  last_discovery = std::chrono::steady_clock::now();
  const std::vector<std::string> paths = tree.match();
  Unopened unopened;
  const std::vector<Found> found = regular_files(paths, unopened, on_error);
  const auto previous_owner = relocate(found);
  for (const auto& [path, identity] : found) {
    if (tracked(identity)) continue;
    const auto owner = previous_owner.find(path);
    if (!open_file(path, owner == previous_owner.end() ? nullptr : owner->second, on_error)) {
      unopened.identities.insert(identity);
    }
  }
  let_go_of_unfound(found, on_error);
  // A path no longer matched leaves its error state: if it comes back broken, that is reported again.
  std::erase_if(path_errors,
                [&](const auto& entry) { return !std::binary_search(paths.begin(), paths.end(), entry.first); });
  checkpoints.discovery_done(unopened);
}

// The matched paths that are regular files, with their identities; the
// others are reported, and those that could not be examined are `unopened`.
std::vector<FileSource::Impl::Found> FileSource::Impl::regular_files(const std::vector<std::string>& paths,
                                                                     Unopened& unopened, const ErrorSink& on_error) {
  std::vector<Found> found;
  for (const auto& path : paths) {
    struct stat status {};
    if (::stat(tree.on_disk(path).c_str(), &status) != 0) {
      // ENOENT: deleted since the glob, or a dangling symlink; nothing to read.
      if (errno == ENOENT) continue;
      report(path_errors[path], failure(path, "cannot stat", errno), on_error);
      unopened.paths.insert(path);
    } else if (S_ISDIR(status.st_mode)) {
      report(path_errors[path], failure(path, "cannot read", EISDIR), on_error);
    } else if (!S_ISREG(status.st_mode)) {
      report(path_errors[path], path + ": cannot read: not a regular file", on_error);
    } else {
      found.push_back({path, identity_of(status)});
    }
  }
  return found;
}

// Updates where each tracked file is now (or that it is not found). Returns
// the newest tracked file of each path as it was before.
std::map<std::string, TrackedFile*> FileSource::Impl::relocate(const std::vector<Found>& found) {
  std::map<std::string, TrackedFile*> previous_owner;
  for (auto& file : files) {
    if (file->closed) continue;
    previous_owner[file->path] = file.get();
    const auto it = std::find_if(found.begin(), found.end(),
                                 [&](const Found& entry) { return entry.identity == file->identity; });
    file->findable = it != found.end();
    file->failed = false;  // retry after a read error
    if (file->findable && file->path != it->path) {
      file->path = it->path;
      checkpoints.rename(file->id, file->path);
    }
  }
  return previous_owner;
}

// Tracked files no longer found are read once more to their end and closed.
// Their path vanished unless another file took it (a rotation).
void FileSource::Impl::let_go_of_unfound(const std::vector<Found>& found, const ErrorSink& on_error) {
  for (auto& file : files) {
    if (file->closed || file->findable) continue;
    file->at_eof = false;
    if (file->vanish_reported) continue;
    file->vanish_reported = true;
    const bool replaced =
        std::any_of(found.begin(), found.end(), [&](const Found& entry) { return entry.path == file->path; });
    if (!replaced) report(file->error, failure(file->path, "vanished", ENOENT), on_error);
  }
}

// False when the file is there but could not be opened (reported); true when
// it is open now, or gone or replaced since the stat.
bool FileSource::Impl::open_file(const std::string& path, TrackedFile* predecessor, const ErrorSink& on_error) {
  // O_NONBLOCK: should a FIFO replace the file after the stat, open() must not hang.
  Fd fd(::open(tree.on_disk(path).c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd && errno == ENOENT) return true;
  if (!fd) {
    report(path_errors[path], failure(path, "cannot open", errno), on_error);
    return false;
  }
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) {
    report(path_errors[path], failure(path, "cannot stat", errno), on_error);
    return false;
  }
  const FileIdentity identity = identity_of(status);
  // Replaced since the stat: the next discovery sees it.
  if (!S_ISREG(status.st_mode) || tracked(identity)) return true;
  path_errors.erase(path);

  std::string prefix;
  const std::uint64_t offset = resume_offset(fd.get(), identity, static_cast<std::uint64_t>(status.st_size), prefix);
  auto file = std::make_unique<TrackedFile>(next_id++, identity, path, std::move(fd), offset, spec.line_delimiter,
                                            options.max_line_bytes);
  checkpoints.track(file->id, identity, path, std::move(prefix), offset);
  ++counters.files_opened;
  if (predecessor) {
    ++counters.rotations;
    file->waits_for = predecessor;
    predecessor->at_eof = false;  // what was appended before the rotation comes first
  }
  files.push_back(std::move(file));
  return true;
}

// Where a newly opened file starts: its checkpoint when one matches the
// identity and the first bytes and the file still reaches it, else 0.
// `prefix` receives the file's first min(offset, 256) bytes.
std::uint64_t FileSource::Impl::resume_offset(int fd, const FileIdentity& identity, std::uint64_t size,
                                              std::string& prefix) {
  const auto saved = checkpoints.claim(identity);
  if (!saved || saved->offset > size) return 0;
  std::string first(std::min<std::uint64_t>(saved->offset, kFingerprintBytes), '\0');
  const ssize_t got = ::pread(fd, first.data(), first.size(), 0);
  if (got != static_cast<ssize_t>(first.size())) return 0;
  if (fingerprint(std::string_view(first).substr(0, saved->fingerprint_bytes)) != saved->fingerprint) {
    return 0;  // the inode was reused by another file
  }
  prefix = std::move(first);
  return saved->offset;
}

bool FileSource::Impl::tracked(const FileIdentity& identity) const {
  return std::any_of(files.begin(), files.end(),
                     [&](const auto& file) { return !file->closed && file->identity == identity; });
}

// Once per state change: a persisting error is not repeated on every poll.
void FileSource::Impl::report(std::string& last, const std::string& message, const ErrorSink& on_error) {
  if (message == last) return;
  last = message;
  ++counters.read_errors;
  if (on_error) on_error(message);
}

// Turns over the files, one read each, until the budget is spent or nothing moves.
std::size_t FileSource::Impl::read_round(std::size_t budget, const LineSink& on_line, const ErrorSink& on_error) {
  std::size_t consumed = 0;
  for (bool changed = true; changed && consumed < budget;) {
    changed = false;
    const std::size_t count = files.size();
    for (std::size_t i = 0; i < count && consumed < budget; ++i) {
      const Step step = read_once(*files[(cursor + i) % count], budget - consumed, on_line, on_error);
      consumed += step.bytes;
      changed = changed || step.changed;
    }
  }
  ++cursor;
  return consumed;
}

FileSource::Impl::Step FileSource::Impl::read_once(TrackedFile& file, std::size_t limit, const LineSink& on_line,
                                                   const ErrorSink& on_error) {
  if (file.closed || file.failed) return {};
  Step step;
  if (file.waits_for) {
    const TrackedFile& before = *file.waits_for;
    if (!before.closed && !before.at_eof && !before.failed) return {};
    file.waits_for = nullptr;
    step.changed = true;
  }
  ssize_t got;
  do {
    got = ::pread(file.fd.get(), buffer.data(), std::min(limit, buffer.size()), static_cast<off_t>(file.offset));
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    file.failed = true;
    report(file.error, failure(file.path, "cannot read", errno), on_error);
    return step;
  }
  file.error.clear();  // readable again: a new error will be reported
  if (got == 0) {
    step.changed = reached_end(file, on_line, on_error) || step.changed;
    return step;
  }
  file.at_eof = false;
  consume(file, std::string_view(buffer.data(), static_cast<std::size_t>(got)), on_line);
  step.bytes = static_cast<std::size_t>(got);
  step.changed = true;
  return step;
}

// Nothing more to read at `offset`: truncated (copytruncate), or at the end,
// where the tail is given up if the file is gone (or with flush_partial).
bool FileSource::Impl::reached_end(TrackedFile& file, const LineSink& on_line, const ErrorSink& on_error) {
  struct stat status {};
  if (::fstat(file.fd.get(), &status) != 0) {
    file.failed = true;
    report(file.error, failure(file.path, "cannot stat", errno), on_error);
    return false;
  }
  if (static_cast<std::uint64_t>(status.st_size) < file.offset) {
    restart_truncated(file);
    return true;
  }
  bool changed = !file.at_eof;
  file.at_eof = true;
  if (options.flush_partial || !file.findable) changed = emit_tail(file, on_line) || changed;
  if (!file.findable) {
    close(file);
    changed = true;
  }
  return changed;
}

void FileSource::Impl::consume(TrackedFile& file, std::string_view data, const LineSink& on_line) {
  if (file.offset < kFingerprintBytes) {
    checkpoints.extend_prefix(file.id, data.substr(0, kFingerprintBytes - file.offset));
  }
  counters.bytes += data.size();
  while (!data.empty()) {
    const std::size_t before = data.size();
    const LineSplitter::Cut cut = file.splitter.next(data);
    file.offset += before - data.size();
    if (cut.kind == LineSplitter::Cut::Kind::line) emit(file, cut.bytes, file.offset, on_line);
    if (cut.kind == LineSplitter::Cut::Kind::oversize) ++counters.dropped_oversize_line;
  }
}

bool FileSource::Impl::emit_tail(TrackedFile& file, const LineSink& on_line) {
  const LineSplitter::Cut cut = file.splitter.flush();
  if (cut.kind == LineSplitter::Cut::Kind::oversize) ++counters.dropped_oversize_line;
  if (cut.kind == LineSplitter::Cut::Kind::line) emit(file, cut.bytes, file.offset, on_line);
  return cut.kind != LineSplitter::Cut::Kind::none;
}

void FileSource::Impl::emit(TrackedFile& file, std::string_view bytes, std::uint64_t end, const LineSink& on_line) {
  ++counters.lines;
  file.last_line_end = end;
  on_line(Line{bytes, &file.path, FilePosition{file.id, end}});
}

// The content before the truncation is gone (copied elsewhere by
// copytruncate); a line held back from it is dropped, since the writer's next
// bytes start a new content.
void FileSource::Impl::restart_truncated(TrackedFile& file) {
  ++counters.truncations;
  checkpoints.forget(file.id);
  file.id = next_id++;
  checkpoints.track(file.id, file.identity, file.path, "", 0);
  file.offset = file.last_line_end = 0;
  file.splitter.reset();
  file.at_eof = false;
}

void FileSource::Impl::close(TrackedFile& file) {
  checkpoints.retire(file.id, file.last_line_end);
  file.fd.reset();
  file.closed = true;
}

void FileSource::Impl::sweep() {
  for (auto& file : files) {
    if (file->waits_for && file->waits_for->closed) file->waits_for = nullptr;
  }
  std::erase_if(files, [](const auto& file) { return file->closed; });
}

bool FileSource::Impl::all_read() const {
  return std::all_of(files.begin(), files.end(),
                     [](const auto& file) { return file->closed || file->failed || file->at_eof; });
}

FileSource::FileSource(const Source& spec, FileSourceOptions options)
    : impl_(std::make_unique<Impl>(spec, std::move(options))) {}

FileSource::~FileSource() = default;
FileSource::FileSource(FileSource&&) noexcept = default;

std::size_t FileSource::poll(const std::function<void(const Line&)>& on_line,
                             const std::function<void(const std::string&)>& on_error, std::size_t max_bytes) {
  return impl_->poll(on_line, on_error, max_bytes);
}

bool FileSource::at_end() const { return impl_->at_end(); }

std::uint64_t FileSource::unread_bytes() const {
  std::uint64_t unread = 0;
  for (const auto& file : impl_->files) {
    struct stat status {};
    if (!file->failed && ::fstat(file->fd.get(), &status) == 0 && static_cast<std::uint64_t>(status.st_size) > file->offset)
      unread += static_cast<std::uint64_t>(status.st_size) - file->offset;
  }
  return unread;
}

void FileSource::commit(const FilePosition& pos) { impl_->checkpoints.commit(pos.file_id, pos.offset); }

std::optional<std::string> FileSource::save_checkpoints() { return impl_->checkpoints.save(); }

const FileSourceCounters& FileSource::counters() const { return impl_->counters; }

}  // namespace kumasim::shipper
