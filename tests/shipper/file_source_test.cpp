// The File source (dkp-log-shipper.md §4, §12): globs under a root, line
// cutting, the line limit, appends, rotation, truncation, errors and
// checkpoints. Every test works in its own temporary directory, and waits
// only by polling until at_end() (a bounded number of times), never by sleeping.
#include "shipper/source/checkpoints.h"
#include "shipper/source/file_source.h"
#include "shipper/source/line_splitter.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <stdexcept>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kumasim::shipper {
namespace {

namespace fs = std::filesystem;

struct Got {
  std::string path, bytes;
  FilePosition end;
};

std::vector<std::string> bytes_of(const std::vector<Got>& got) {
  std::vector<std::string> bytes;
  for (const auto& line : got) bytes.push_back(line.bytes);
  return bytes;
}

Source file_source(std::vector<std::string> include, std::vector<std::string> exclude = {},
                   std::string delimiter = "\n") {
  Source spec;
  spec.name = "audit";
  spec.include = std::move(include);
  spec.exclude = std::move(exclude);
  spec.line_delimiter = std::move(delimiter);
  return spec;
}

// Every open() fails with EMFILE while it lives: the soft descriptor limit is
// lowered to the lowest free descriptor. Unlike a file mode, this stops root too.
class NoFreeDescriptors {
 public:
  NoFreeDescriptors() {
    EXPECT_EQ(::getrlimit(RLIMIT_NOFILE, &saved_), 0) << std::strerror(errno);
    const int lowest = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    EXPECT_GE(lowest, 0) << std::strerror(errno);
    ::close(lowest);
    rlimit exhausted = saved_;
    exhausted.rlim_cur = static_cast<rlim_t>(lowest);
    EXPECT_EQ(::setrlimit(RLIMIT_NOFILE, &exhausted), 0) << std::strerror(errno);
  }
  ~NoFreeDescriptors() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
  NoFreeDescriptors(const NoFreeDescriptors&) = delete;
  NoFreeDescriptors& operator=(const NoFreeDescriptors&) = delete;

 private:
  rlimit saved_{};
};

class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "kumasim-file-source.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    root_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ignored);
    fs::remove_all(root_, ignored);
  }

  std::string disk(const std::string& node_path) const { return root_ + node_path; }
  std::string data_dir() const { return root_ + "/data"; }

  FileSourceOptions options(bool with_checkpoints = false) const {
    FileSourceOptions result;
    result.root = root_;
    if (with_checkpoints) result.data_dir = data_dir();
    return result;
  }

  // Replaces the content, keeping the inode when the file exists.
  void write(const std::string& node_path, std::string_view bytes) const {
    fs::create_directories(fs::path(disk(node_path)).parent_path());
    std::ofstream(disk(node_path), std::ios::binary | std::ios::trunc).write(bytes.data(), std::ssize(bytes));
  }
  void append(const std::string& node_path, std::string_view bytes) const {
    std::ofstream(disk(node_path), std::ios::binary | std::ios::app).write(bytes.data(), std::ssize(bytes));
  }
  void rename(const std::string& from, const std::string& to) const { fs::rename(disk(from), disk(to)); }
  void remove(const std::string& node_path) const { fs::remove(disk(node_path)); }

  // Polls until at_end(); the lines read on the way.
  std::vector<Got> drain(FileSource& source, std::size_t max_bytes = 1 << 20) {
    std::vector<Got> got;
    for (int polls = 0; polls < 10000; ++polls) {
      const std::size_t consumed = source.poll(
          [&](const Line& line) { got.push_back({*line.path, std::string(line.bytes), line.end}); },
          [&](const std::string& error) { errors_.push_back(error); }, max_bytes);
      EXPECT_LE(consumed, max_bytes);
      if (source.at_end()) return got;
    }
    ADD_FAILURE() << "the source never reached its end";
    return got;
  }

  nlohmann::json saved_checkpoints() const {
    std::ifstream in(data_dir() + "/checkpoints.json");
    return nlohmann::json::parse(in);
  }

  // The node paths a source with these globs reads (every file holds one line), sorted.
  std::vector<std::string> matched(std::vector<std::string> include) {
    FileSource source(file_source(std::move(include)), options());
    std::vector<std::string> paths;
    for (const auto& line : drain(source)) paths.push_back(line.path);
    std::sort(paths.begin(), paths.end());
    return paths;
  }

  std::string root_;
  std::vector<std::string> errors_;
};

TEST_F(FileSourceTest, PathsAreNodePathsWithoutTheRoot) {
  write("/var/log/kube-audit/audit.log", "a\n");
  FileSource source(file_source({"/var/log/kube-audit/audit.log"}), options());
  const auto got = drain(source);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/var/log/kube-audit/audit.log");
  EXPECT_EQ(got[0].bytes, "a");
  EXPECT_EQ(got[0].end.offset, 2u);
  EXPECT_TRUE(errors_.empty());
}

TEST_F(FileSourceTest, RootWithGlobCharactersIsTakenLiterally) {
  const std::string nested = "/we[ir]d*?";
  fs::create_directories(root_ + nested + "/var/log");
  std::ofstream(root_ + nested + "/var/log/a.log") << "x\n";
  auto opts = options();
  opts.root = root_ + nested + "/";
  FileSource source(file_source({"/var/log/*.log"}), opts);
  const auto got = drain(source);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].path, "/var/log/a.log");
}

TEST_F(FileSourceTest, IncludeAndExcludeGlobs) {
  for (const char* path : {"/var/log/a.log", "/var/log/b.log", "/var/log/c.txt", "/var/log/skip-e.log",
                           "/var/log/sub/d.log", "/var/log/other/f.log"}) {
    write(path, std::string(path) + "\n");
  }
  // Overlapping includes give each file once; an exclude's `*` crosses '/'.
  FileSource source(
      file_source({"/var/log/*.log", "/var/log/a.*", "/var/log/*/*.log"}, {"/var/log/skip-*", "*/other/*"}), options());
  std::vector<std::string> paths;
  for (const auto& line : drain(source)) {
    EXPECT_EQ(line.path, line.bytes);
    paths.push_back(line.path);
  }
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"/var/log/a.log", "/var/log/b.log", "/var/log/sub/d.log"}));
  EXPECT_EQ(source.counters().files_opened, 3u);
}

// Includes are expanded as Vector's `glob` crate does (node_tree.h), not as glob(3).

TEST_F(FileSourceTest, DoubleStarMatchesAnyNumberOfDirectories) {
  for (const char* path : {"/var/log/top.log", "/var/log/sub/s.log", "/var/log/sub/deep/d.log",
                           "/var/log/.hidden/h.log", "/var/log/sub/s.txt", "/var/other/o.log"}) {
    write(path, "x\n");
  }
  EXPECT_EQ(matched({"/var/log/**/*.log"}),
            (std::vector<std::string>{"/var/log/.hidden/h.log", "/var/log/sub/deep/d.log", "/var/log/sub/s.log",
                                      "/var/log/top.log"}));
  EXPECT_EQ(matched({"/**/d.log", "/var/**/**/o.log"}),
            (std::vector<std::string>{"/var/log/sub/deep/d.log", "/var/other/o.log"}));
}

TEST_F(FileSourceTest, WildcardsMatchALeadingDot) {
  for (const char* path : {"/var/log/a.log", "/var/log/.h.log", "/var/log/.d/x.log"}) write(path, "x\n");
  EXPECT_EQ(matched({"/var/log/*.log"}), (std::vector<std::string>{"/var/log/.h.log", "/var/log/a.log"}));
  EXPECT_EQ(matched({"/var/log/?h.log", "/var/log/*/x.log"}),
            (std::vector<std::string>{"/var/log/.d/x.log", "/var/log/.h.log"}));
}

// MatchOptions::default() of glob 0.3 is not case sensitive; a component
// without wildcards is looked up as written all the same.
TEST_F(FileSourceTest, WildcardComponentsIgnoreAsciiCase) {
  for (const char* path : {"/var/log/Upper.LOG", "/var/log/lower.log"}) write(path, "x\n");
  EXPECT_EQ(matched({"/var/log/*.log"}), (std::vector<std::string>{"/var/log/Upper.LOG", "/var/log/lower.log"}));
  EXPECT_EQ(matched({"/var/log/[u]pper.log"}), std::vector<std::string>{"/var/log/Upper.LOG"});
  EXPECT_EQ(matched({"/var/log/[a-z]PPER.log"}), std::vector<std::string>{"/var/log/Upper.LOG"});
  EXPECT_TRUE(matched({"/var/log/upper.log", "/VAR/log/*.log"}).empty());
  // After `**` every component is compared by name, like a wildcard one.
  EXPECT_EQ(matched({"/var/log/**/LOWER.LOG"}), std::vector<std::string>{"/var/log/lower.log"});
}

TEST_F(FileSourceTest, DoubleStarFollowsDirectorySymlinksButNotLoops) {
  for (const char* path : {"/var/log/top.log", "/var/log/sub/s.log", "/elsewhere/e.log"}) write(path, "x\n");
  fs::create_directory_symlink("..", disk("/var/log/sub/up"));
  fs::create_directory_symlink(disk("/elsewhere"), disk("/var/log/linked"));
  EXPECT_EQ(matched({"/var/log/**/*.log"}),
            (std::vector<std::string>{"/var/log/linked/e.log", "/var/log/sub/s.log", "/var/log/top.log"}));
}

// The crate skips a name that is not UTF-8 where it compares names, but
// `**` still walks through such a directory.
TEST_F(FileSourceTest, NamesThatAreNotUtf8AreOnlyWalkedThrough) {
  for (const char* path : {"/var/log/ok.log", "/var/log/bad\xff.log", "/var/log/bad\xff/in.log"}) write(path, "x\n");
  EXPECT_EQ(matched({"/var/log/*.log"}), std::vector<std::string>{"/var/log/ok.log"});
  EXPECT_EQ(matched({"/var/log/**/*.log"}), (std::vector<std::string>{"/var/log/bad\xff/in.log", "/var/log/ok.log"}));
}

// Vector refuses to start with a pattern the crate cannot compile.
TEST_F(FileSourceTest, GlobsTheCrateRefusesAreRejected) {
  for (const char* include : {"/var/log/a**.log", "/var/log/***/a.log", "/var/log/[ab", "/var/log/[!a"}) {
    EXPECT_THROW(FileSource(file_source({include}), options()), std::invalid_argument) << include;
  }
  EXPECT_THROW(FileSource(file_source({"/var/log/*.log"}, {"/var/log/**x"}), options()), std::invalid_argument);
  try {
    FileSource source(file_source({"/var/log/x**/a.log"}), options());
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(),
                 "include \"/var/log/x**/a.log\" is not a valid glob: recursive wildcards must form a single path "
                 "component");
  }
  // A `]` right after `[` or `[!` belongs to the set.
  write("/var/log/].log", "x\n");
  EXPECT_EQ(matched({"/var/log/[]].log"}), std::vector<std::string>{"/var/log/].log"});
}

TEST_F(FileSourceTest, NewlineDelimiterKeepsTheCarriageReturn) {
  write("/log", "a\r\nb\n");
  FileSource source(file_source({"/log"}), options());
  EXPECT_EQ(bytes_of(drain(source)), (std::vector<std::string>{"a\r", "b"}));
}

TEST_F(FileSourceTest, CrLfDelimiterRemovesBothBytes) {
  write("/log", "a\r\nb\nc\r\n");
  FileSource source(file_source({"/log"}, {}, "\r\n"), options());
  const auto got = drain(source);
  EXPECT_EQ(bytes_of(got), (std::vector<std::string>{"a", "b\nc"}));
  EXPECT_EQ(got.back().end.offset, 8u);
}

TEST_F(FileSourceTest, MultiByteDelimiterSplitAcrossAppends) {
  write("/log", "one<|");
  FileSource source(file_source({"/log"}, {}, "<|>"), options());
  EXPECT_TRUE(drain(source).empty());
  append("/log", ">t<|wo<|>th");
  auto got = drain(source);
  EXPECT_EQ(bytes_of(got), (std::vector<std::string>{"one", "t<|wo"}));
  EXPECT_EQ(got[0].end.offset, 6u);
  EXPECT_EQ(got[1].end.offset, 14u);
  append("/log", "ree<");
  EXPECT_TRUE(drain(source).empty());
  append("/log", "|");
  EXPECT_TRUE(drain(source).empty());
  append("/log", ">");
  got = drain(source);
  EXPECT_EQ(bytes_of(got), std::vector<std::string>{"three"});
  EXPECT_EQ(got[0].end.offset, 22u);
}

TEST_F(FileSourceTest, EmptyLinesAreLines) {
  write("/log", "\n\na\n\n");
  FileSource source(file_source({"/log"}), options());
  EXPECT_EQ(bytes_of(drain(source)), (std::vector<std::string>{"", "", "a", ""}));
}

TEST_F(FileSourceTest, OversizeLineIsDroppedAndCountedWithItsNeighboursIntact) {
  write("/log", "before\n" + std::string(1 << 20, 'x') + "\nafter\n");
  FileSource source(file_source({"/log"}), options());
  const auto got = drain(source);
  EXPECT_EQ(bytes_of(got), (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(got[1].end.offset, 7u + (1u << 20) + 1u + 6u);
  EXPECT_EQ(source.counters().dropped_oversize_line, 1u);
  EXPECT_EQ(source.counters().lines, 2u);
}

TEST_F(FileSourceTest, LineLimitExcludesTheDelimiter) {
  write("/log", "0123456789\r\n0123456789A\r\nok\r\n");
  auto opts = options();
  opts.max_line_bytes = 10;
  FileSource source(file_source({"/log"}, {}, "\r\n"), opts);
  const auto got = drain(source, 7);  // reads end inside lines and delimiters
  EXPECT_EQ(bytes_of(got), (std::vector<std::string>{"0123456789", "ok"}));
  EXPECT_EQ(got[1].end.offset, 29u);
  EXPECT_EQ(source.counters().dropped_oversize_line, 1u);
}

TEST_F(FileSourceTest, PartialLineIsHeldBackUntilItsDelimiterArrives) {
  write("/log", "a\nb");
  FileSource source(file_source({"/log"}), options());
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"a"});
  EXPECT_TRUE(source.at_end());  // read to its end; the tail waits
  append("/log", "c\n");
  const auto got = drain(source);
  EXPECT_EQ(bytes_of(got), std::vector<std::string>{"bc"});
  EXPECT_EQ(got[0].end.offset, 5u);
}

TEST_F(FileSourceTest, FlushPartialEmitsTheTailAtTheEnd) {
  write("/log", "a\nb");
  auto opts = options();
  opts.flush_partial = true;
  FileSource source(file_source({"/log"}), opts);
  auto got = drain(source);
  EXPECT_EQ(bytes_of(got), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(got[1].end.offset, 3u);
  append("/log", "c\n");  // a new line: "b" was given up already
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"c"});
}

TEST_F(FileSourceTest, DeletedFileEmitsItsUnterminatedTail) {
  write("/log", "a\nb");
  FileSource source(file_source({"/log"}), options());
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"a"});
  remove("/log");
  const auto got = drain(source);
  EXPECT_EQ(bytes_of(got), std::vector<std::string>{"b"});
  EXPECT_EQ(got[0].end.offset, 3u);
  EXPECT_EQ(errors_, std::vector<std::string>{"/log: vanished: No such file or directory"});
}

TEST_F(FileSourceTest, AppendsAreFollowed) {
  write("/log", "1\n");
  FileSource source(file_source({"/log"}), options());
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"1"});
  append("/log", "2\n3\n");
  EXPECT_EQ(bytes_of(drain(source)), (std::vector<std::string>{"2", "3"}));
  append("/log", "4\n");
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"4"});
  EXPECT_EQ(source.counters().lines, 4u);
  EXPECT_EQ(source.counters().bytes, 8u);
  EXPECT_EQ(source.counters().files_opened, 1u);
}

TEST_F(FileSourceTest, RotationByRenameReadsTheOldFileToItsEndThenTheNewOne) {
  write("/var/log/audit.log", "a\nb\n");
  FileSource source(file_source({"/var/log/audit.log"}), options());
  EXPECT_EQ(bytes_of(drain(source)), (std::vector<std::string>{"a", "b"}));
  append("/var/log/audit.log", "c\n");  // written just before the rotation, not read yet
  rename("/var/log/audit.log", "/var/log/audit-1.log");
  write("/var/log/audit.log", "d\ne\n");
  const auto got = drain(source);
  EXPECT_EQ(bytes_of(got), (std::vector<std::string>{"c", "d", "e"}));
  EXPECT_NE(got[0].end.file_id, got[1].end.file_id);
  EXPECT_EQ(got[2].end.offset, 4u);
  EXPECT_EQ(source.counters().rotations, 1u);
  EXPECT_TRUE(errors_.empty());
  append("/var/log/audit.log", "f\n");
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"f"});
}

TEST_F(FileSourceTest, RotationToAMatchedNameReadsEveryLineOnce) {
  write("/var/log/audit.log", "a\n");
  FileSource source(file_source({"/var/log/audit.log*"}), options());
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"a"});
  append("/var/log/audit.log", "b\n");
  rename("/var/log/audit.log", "/var/log/audit.log.1");
  write("/var/log/audit.log", "c\n");
  EXPECT_EQ(bytes_of(drain(source)), (std::vector<std::string>{"b", "c"}));
  append("/var/log/audit.log.1", "late\n");  // the writer had not reopened yet
  const auto got = drain(source);
  ASSERT_EQ(bytes_of(got), std::vector<std::string>{"late"});
  EXPECT_EQ(got[0].path, "/var/log/audit.log.1");
  EXPECT_EQ(source.counters().files_opened, 2u);
}

// The rotation is found (every poll globs) while the old file still has
// lines to read: they come first, then the new file's, each exactly once.
TEST_F(FileSourceTest, RotationFoundBeforeTheOldFileIsReadKeepsTheOrder) {
  for (const std::string rotated : {"/var/log/audit-1.log", "/var/log/audit.log.1"}) {
    SCOPED_TRACE(rotated);
    const auto lines = [](const char* name) {
      std::string text;
      for (int i = 0; i < 500; ++i) text += name + std::to_string(1000 + i) + "\n";
      return text;
    };
    write("/var/log/audit.log", lines("old"));
    auto opts = options();
    opts.discovery_interval = std::chrono::milliseconds(0);
    FileSource source(file_source({"/var/log/audit.log*"}), opts);
    std::string got;
    source.poll([&](const Line& line) { got.append(line.bytes).append("\n"); }, {}, 100);
    rename("/var/log/audit.log", rotated);
    write("/var/log/audit.log", lines("new"));
    for (const auto& line : drain(source, 100)) got.append(line.bytes).append("\n");
    EXPECT_EQ(got, lines("old") + lines("new"));
    EXPECT_EQ(source.counters().rotations, 1u);
    remove(rotated);
    remove("/var/log/audit.log");
  }
}

TEST_F(FileSourceTest, RotationByDeleteAndNewFile) {
  write("/log", "a\nt");
  FileSource source(file_source({"/log"}), options());
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"a"});
  remove("/log");
  write("/log", "n\n");
  // The old file's unterminated tail, then the new file.
  EXPECT_EQ(bytes_of(drain(source)), (std::vector<std::string>{"t", "n"}));
  EXPECT_EQ(source.counters().rotations, 1u);
  EXPECT_TRUE(errors_.empty());
}

TEST_F(FileSourceTest, CopyTruncateReadsFromTheStart) {
  write("/log", "a\nb\n");
  FileSource source(file_source({"/log"}), options());
  const auto before = drain(source);
  EXPECT_EQ(bytes_of(before), (std::vector<std::string>{"a", "b"}));
  write("/log", "c\n");  // same inode, shorter than what was read
  const auto after = drain(source);
  EXPECT_EQ(bytes_of(after), std::vector<std::string>{"c"});
  EXPECT_EQ(after[0].end.offset, 2u);
  EXPECT_NE(after[0].end.file_id, before[0].end.file_id);
  EXPECT_EQ(source.counters().truncations, 1u);
  EXPECT_EQ(source.counters().rotations, 0u);
}

TEST_F(FileSourceTest, VanishedFileIsReportedOnceAndOthersGoOn) {
  write("/var/log/a.log", "a1\n");
  write("/var/log/b.log", "b1\n");
  FileSource source(file_source({"/var/log/*.log"}), options());
  EXPECT_EQ(drain(source).size(), 2u);
  remove("/var/log/a.log");
  append("/var/log/b.log", "b2\n");
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"b2"});
  append("/var/log/b.log", "b3\n");
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"b3"});
  EXPECT_EQ(errors_, std::vector<std::string>{"/var/log/a.log: vanished: No such file or directory"});
  write("/var/log/a.log", "a1\n");  // back: a new file, read from its beginning
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"a1"});
  EXPECT_EQ(source.counters().read_errors, 1u);
}

TEST_F(FileSourceTest, MatchedDirectoryIsAReadErrorReportedOnce) {
  fs::create_directories(disk("/var/log/dir.log"));
  write("/var/log/ok.log", "x\n");
  FileSource source(file_source({"/var/log/*.log"}), options());
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"x"});
  append("/var/log/ok.log", "y\n");
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"y"});
  EXPECT_EQ(errors_, std::vector<std::string>{"/var/log/dir.log: cannot read: Is a directory"});
  EXPECT_EQ(source.counters().read_errors, 1u);
}

TEST_F(FileSourceTest, UnreadableFileIsReportedOncePerStateChange) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  write("/var/log/a.log", "a\n");
  write("/var/log/b.log", "b\n");
  fs::permissions(disk("/var/log/a.log"), fs::perms::none);
  FileSource source(file_source({"/var/log/*.log"}), options());
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"b"});
  EXPECT_TRUE(drain(source).empty());
  EXPECT_EQ(errors_, std::vector<std::string>{"/var/log/a.log: cannot open: Permission denied"});
  fs::permissions(disk("/var/log/a.log"), fs::perms::owner_read);
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"a"});
  EXPECT_EQ(source.counters().read_errors, 1u);
}

TEST_F(FileSourceTest, CheckpointRestartResumesWithoutLossOrDuplicates) {
  std::string content;
  for (int i = 0; i < 10; ++i) content += "line" + std::to_string(i) + "\n";
  write("/log", content);
  {
    FileSource first(file_source({"/log"}), options(true));
    const auto got = drain(first);
    ASSERT_EQ(got.size(), 10u);
    first.commit(got[4].end);  // lines 5..9 read but never delivered
    first.save_checkpoints();
  }
  {
    // Saved again before any poll: the loaded checkpoint is kept.
    FileSource idle(file_source({"/log"}), options(true));
    idle.save_checkpoints();
  }
  EXPECT_FALSE(fs::exists(data_dir() + "/checkpoints.json.tmp"));
  for (int i = 10; i < 15; ++i) append("/log", "line" + std::to_string(i) + "\n");
  FileSource second(file_source({"/log"}), options(true));
  std::vector<std::string> expected;
  for (int i = 5; i < 15; ++i) expected.push_back("line" + std::to_string(i));
  EXPECT_EQ(bytes_of(drain(second)), expected);
}

TEST_F(FileSourceTest, CheckpointFileRecordsIdentityFingerprintAndOffset) {
  write("/log", "a\nb\n");
  FileSource source(file_source({"/log"}), options(true));
  const auto got = drain(source);
  source.commit(got[0].end);
  source.commit(got[1].end);
  source.commit(got[0].end);  // out of order: the position never goes back
  source.save_checkpoints();
  struct stat status {};
  ASSERT_EQ(::stat(disk("/log").c_str(), &status), 0);
  const auto saved = saved_checkpoints();
  EXPECT_EQ(saved["version"], 1);
  ASSERT_EQ(saved["checkpoints"].size(), 1u);
  const auto& entry = saved["checkpoints"][0];
  EXPECT_EQ(entry["path"], "/log");
  EXPECT_EQ(entry["device"], static_cast<std::uint64_t>(status.st_dev));
  EXPECT_EQ(entry["inode"], static_cast<std::uint64_t>(status.st_ino));
  EXPECT_EQ(entry["fingerprint_bytes"], 4);
  EXPECT_EQ(entry["offset"], 4);
}

TEST_F(FileSourceTest, SavingWithoutProgressWritesNothing) {
  write("/log", "a\nb\n");
  FileSource source(file_source({"/log"}), options(true));
  const auto got = drain(source);
  source.commit(got[0].end);
  source.save_checkpoints();
  fs::remove(data_dir() + "/checkpoints.json");
  source.save_checkpoints();
  EXPECT_FALSE(fs::exists(data_dir() + "/checkpoints.json"));
  source.commit(got[1].end);
  source.save_checkpoints();
  EXPECT_EQ(saved_checkpoints()["checkpoints"][0]["offset"], 4);
}

TEST_F(FileSourceTest, CheckpointOfARotatedFileIsForgottenOnceCommitted) {
  write("/var/log/audit.log", "a\nb\nc\n");
  FileSource source(file_source({"/var/log/audit.log"}), options(true));
  const auto old_lines = drain(source);
  ASSERT_EQ(old_lines.size(), 3u);
  source.commit(old_lines[1].end);
  rename("/var/log/audit.log", "/var/log/audit.log.1");
  write("/var/log/audit.log", "d\n");
  const auto new_lines = drain(source);
  ASSERT_EQ(bytes_of(new_lines), std::vector<std::string>{"d"});
  source.commit(new_lines[0].end);
  source.save_checkpoints();
  EXPECT_EQ(saved_checkpoints()["checkpoints"].size(), 2u);  // the closed file still waits for "c"
  source.commit(old_lines[2].end);
  source.save_checkpoints();
  const auto saved = saved_checkpoints();
  ASSERT_EQ(saved["checkpoints"].size(), 1u);
  EXPECT_EQ(saved["checkpoints"][0]["offset"], 2);
}

TEST_F(FileSourceTest, CheckpointOfARotatedFileResumesItWhenMatchedAgain) {
  write("/var/log/audit.log", "a\nb\nc\n");
  {
    FileSource first(file_source({"/var/log/audit.log"}), options(true));
    const auto old_lines = drain(first);
    ASSERT_EQ(old_lines.size(), 3u);
    rename("/var/log/audit.log", "/var/log/audit.log.1");
    write("/var/log/audit.log", "d\n");
    const auto new_lines = drain(first);
    first.commit(old_lines[1].end);  // "c" was never delivered
    first.commit(new_lines[0].end);
    first.save_checkpoints();
  }
  FileSource second(file_source({"/var/log/audit.log*"}), options(true));
  const auto got = drain(second);
  ASSERT_EQ(bytes_of(got), std::vector<std::string>{"c"});
  EXPECT_EQ(got[0].path, "/var/log/audit.log.1");
}

TEST_F(FileSourceTest, CheckpointDoesNotApplyToOtherContentOnTheSameInode) {
  write("/log", "first\nsecond\n");
  {
    FileSource first(file_source({"/log"}), options(true));
    const auto got = drain(first);
    first.commit(got[0].end);
    first.save_checkpoints();
  }
  write("/log", "other content\nmore\n");  // same inode, same length or longer, other bytes
  FileSource second(file_source({"/log"}), options(true));
  EXPECT_EQ(bytes_of(drain(second)), (std::vector<std::string>{"other content", "more"}));
}

TEST_F(FileSourceTest, CheckpointBeyondTheFileSizeReadsFromTheStart) {
  write("/log", "a\nb\nc\n");
  {
    FileSource first(file_source({"/log"}), options(true));
    first.commit(drain(first).back().end);
    first.save_checkpoints();
  }
  write("/log", "a\n");
  FileSource second(file_source({"/log"}), options(true));
  EXPECT_EQ(bytes_of(drain(second)), std::vector<std::string>{"a"});
}

TEST_F(FileSourceTest, MalformedCheckpointFileIsAnErrorNamingIt) {
  fs::create_directories(data_dir());
  std::ofstream(data_dir() + "/checkpoints.json") << "{\"version\": 1, \"checkpoints\": [{\"offset\": -1}]}";
  try {
    FileSource source(file_source({"/log"}), options(true));
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(data_dir() + "/checkpoints.json: not a checkpoint file"), std::string::npos)
        << e.what();
  }
}

TEST_F(FileSourceTest, CheckpointOfAPathThatIsNotUtf8IsSavedAndResumed) {
  const std::string path = "/var/log/bad\xff/a.log";
  write(path, "1\n2\n");
  {
    FileSource first(file_source({"/var/log/**/*.log"}), options(true));
    const auto got = drain(first);
    ASSERT_EQ(bytes_of(got), (std::vector<std::string>{"1", "2"}));
    EXPECT_EQ(got[0].path, path);
    first.commit(got[0].end);
    EXPECT_EQ(first.save_checkpoints(), std::nullopt);
  }
  EXPECT_EQ(saved_checkpoints()["checkpoints"][0]["path"], "/var/log/bad\uFFFD/a.log");
  FileSource second(file_source({"/var/log/**/*.log"}), options(true));
  EXPECT_EQ(bytes_of(drain(second)), std::vector<std::string>{"2"});
}

// EACCES for a non-root reader, EMFILE for anyone: the file is there, and its
// position must not be lost because it could not be opened at the first try.
TEST_F(FileSourceTest, CheckpointOfAFileThatCannotBeOpenedYetIsKept) {
  std::string content;
  for (int i = 0; i < 10; ++i) content += "line" + std::to_string(i) + "\n";
  write("/var/log/audit.log", content);
  {
    FileSource first(file_source({"/var/log/audit.log"}), options(true));
    const auto got = drain(first);
    ASSERT_EQ(got.size(), 10u);
    first.commit(got[4].end);
    ASSERT_EQ(first.save_checkpoints(), std::nullopt);
  }
  FileSource second(file_source({"/var/log/audit.log"}), options(true));
  {
    const NoFreeDescriptors exhausted;
    EXPECT_TRUE(drain(second).empty());
  }
  EXPECT_EQ(errors_, std::vector<std::string>{"/var/log/audit.log: cannot open: Too many open files"});
  EXPECT_EQ(second.save_checkpoints(), std::nullopt);
  EXPECT_EQ(saved_checkpoints()["checkpoints"].size(), 1u);  // a restart now would keep it too
  std::vector<std::string> expected;
  for (int i = 5; i < 10; ++i) expected.push_back("line" + std::to_string(i));
  EXPECT_EQ(bytes_of(drain(second)), expected);
}

TEST_F(FileSourceTest, FailedSaveIsReturnedAndTheNextSaveRetries) {
  write("/log", "a\n");
  FileSource source(file_source({"/log"}), options(true));
  source.commit(drain(source).at(0).end);
  const std::string temporary = data_dir() + "/checkpoints.json.tmp";
  fs::create_directories(temporary);  // in the way of the temporary file
  const auto error = source.save_checkpoints();
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "cannot create " + temporary + ": Is a directory");
  EXPECT_FALSE(fs::exists(data_dir() + "/checkpoints.json"));
  fs::remove(temporary);
  EXPECT_EQ(source.save_checkpoints(), std::nullopt);
  EXPECT_EQ(saved_checkpoints()["checkpoints"][0]["offset"], 2);
}

TEST_F(FileSourceTest, UnwritableDataDirIsAnErrorNotAnException) {
  write("/log", "a\n");
  FileSource source(file_source({"/log"}), options(true));
  source.commit(drain(source).at(0).end);
  write("/data", "a file where the directory should be\n");
  const auto error = source.save_checkpoints();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("cannot create the checkpoint directory " + data_dir()), std::string::npos) << *error;
}

TEST_F(FileSourceTest, EmptyDelimiterIsRejected) {
  EXPECT_THROW(FileSource(file_source({"/log"}, {}, ""), options()), std::invalid_argument);
}

TEST_F(FileSourceTest, AtEndMeansEveryFileReadToItsCurrentSize) {
  write("/log", "a\n");
  FileSource source(file_source({"/log"}), options());
  EXPECT_FALSE(source.at_end());  // nothing globbed yet
  drain(source);
  EXPECT_TRUE(source.at_end());
  append("/log", "b\n");
  EXPECT_FALSE(source.at_end());  // seen without a poll
  EXPECT_EQ(bytes_of(drain(source)), std::vector<std::string>{"b"});
  write("/new", "n\n");
  FileSource both(file_source({"/log", "/new"}), options());
  both.poll([](const Line&) {}, [](const std::string&) {}, 3);  // not even the first file
  EXPECT_FALSE(both.at_end());
}

TEST_F(FileSourceTest, MaxBytesBoundsEachPoll) {
  std::string content;
  for (int i = 0; i < 100; ++i) content += "line" + std::to_string(i % 10) + "..\n";
  write("/log", content);
  FileSource source(file_source({"/log"}), options());
  const auto got = drain(source, 25);
  EXPECT_EQ(got.size(), 100u);
  EXPECT_EQ(source.counters().bytes, content.size());
}

TEST_F(FileSourceTest, EveryFileGetsItsTurn) {
  write("/a", std::string(3 << 20, 'a'));  // one line, never terminated: read but never emitted
  write("/b", "b\n");
  FileSource source(file_source({"/a", "/b"}), options());
  std::vector<std::string> got;
  source.poll([&](const Line& line) { got.emplace_back(line.bytes); }, [](const std::string&) {}, 1 << 20);
  EXPECT_EQ(got, std::vector<std::string>{"b"});
}

// CheckpointTable on its own, with made-up identities.

TEST_F(FileSourceTest, CheckpointTableKeepsPathBytesThatAreNotUtf8) {
  const std::string path = "/var/log/bad\xff\xfe.log";
  {
    CheckpointTable table(data_dir());
    table.track(1, {7, 8}, path, "ab\n", 3);
    ASSERT_EQ(table.save(), std::nullopt);
  }
  CheckpointTable reloaded(data_dir());
  const auto checkpoint = reloaded.claim({7, 8});
  ASSERT_TRUE(checkpoint);
  EXPECT_EQ(checkpoint->path, path);
  EXPECT_EQ(checkpoint->offset, 3u);
  EXPECT_EQ(checkpoint->fingerprint, fingerprint("ab\n"));
}

TEST_F(FileSourceTest, CheckpointTableKeepsTheCheckpointsOfUnopenedFiles) {
  {
    CheckpointTable table(data_dir());
    table.track(1, {1, 1}, "/unopened", "a\n", 2);
    table.track(2, {1, 2}, "/unexamined", "b\n", 2);
    table.track(3, {1, 3}, "/gone", "c\n", 2);
    ASSERT_EQ(table.save(), std::nullopt);
  }
  CheckpointTable table(data_dir());
  table.discovery_done(Unopened{{FileIdentity{1, 1}}, {"/unexamined"}});
  ASSERT_EQ(table.save(), std::nullopt);
  std::vector<std::string> paths;
  const auto saved = saved_checkpoints();  // alive through the loop
  for (const auto& entry : saved["checkpoints"]) paths.push_back(entry["path"]);
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"/unexamined", "/unopened"}));
  EXPECT_FALSE(table.claim({1, 3}));
  EXPECT_TRUE(table.claim({1, 1}));  // opened at last
  table.discovery_done({});          // "/unexamined" is no longer matched
  EXPECT_FALSE(table.claim({1, 2}));
}

// LineSplitter on its own: held bytes stay bounded, and any chunking cuts
// the same lines as splitting the whole stream at once.

TEST(LineSplitterTest, OversizeLineIsNeverHeldWhole) {
  LineSplitter splitter("\r\n", 100);
  std::vector<LineSplitter::Cut::Kind> kinds;
  std::vector<std::string> lines;
  const auto feed = [&](std::string_view input) {
    while (!input.empty()) {
      const auto cut = splitter.next(input);
      if (cut.kind != LineSplitter::Cut::Kind::none) kinds.push_back(cut.kind);
      if (cut.kind == LineSplitter::Cut::Kind::line) lines.emplace_back(cut.bytes);
    }
  };
  const std::string chunk(4096, 'x');
  for (int i = 0; i < 256; ++i) {  // 1 MiB
    feed(chunk);
    EXPECT_LE(splitter.held(), 101u);
  }
  feed("x\r");
  feed("\nok\r\n");
  EXPECT_EQ(kinds, (std::vector{LineSplitter::Cut::Kind::oversize, LineSplitter::Cut::Kind::line}));
  EXPECT_EQ(lines, std::vector<std::string>{"ok"});
}

TEST(LineSplitterTest, LineAtTheLimitWithTheDelimiterSplitAcrossReads) {
  LineSplitter splitter("\r\n", 4);
  std::string_view first = "abcd\r";
  EXPECT_EQ(splitter.next(first).kind, LineSplitter::Cut::Kind::none);
  std::string_view second = "\n";
  const auto cut = splitter.next(second);
  ASSERT_EQ(cut.kind, LineSplitter::Cut::Kind::line);
  EXPECT_EQ(cut.bytes, "abcd");
}

struct Cutting {
  std::vector<std::pair<std::string, std::size_t>> lines;  // bytes, end offset
  int dropped = 0;
  bool operator==(const Cutting&) const = default;
};

// The definition: split the whole stream at each delimiter found left to
// right; the unterminated rest is the tail.
Cutting cut_whole(const std::string& data, const std::string& delimiter, std::size_t max) {
  Cutting result;
  std::size_t start = 0;
  for (std::size_t pos; (pos = data.find(delimiter, start)) != std::string::npos; start = pos + delimiter.size()) {
    if (pos - start > max) ++result.dropped;
    else result.lines.emplace_back(data.substr(start, pos - start), pos + delimiter.size());
  }
  if (start < data.size()) {
    if (data.size() - start > max) ++result.dropped;
    else result.lines.emplace_back(data.substr(start), data.size());
  }
  return result;
}

Cutting cut_in_chunks(const std::string& data, const std::string& delimiter, std::size_t max, std::mt19937& random) {
  Cutting result;
  LineSplitter splitter(delimiter, max);
  std::size_t offset = 0;
  const auto record = [&](const LineSplitter::Cut& cut) {
    if (cut.kind == LineSplitter::Cut::Kind::line) result.lines.emplace_back(std::string(cut.bytes), offset);
    if (cut.kind == LineSplitter::Cut::Kind::oversize) ++result.dropped;
  };
  while (offset < data.size()) {
    const std::size_t size = std::min<std::size_t>(data.size() - offset, 1 + random() % 7);
    std::string_view input(data.data() + offset, size);
    while (!input.empty()) {
      const std::size_t before = input.size();
      const auto cut = splitter.next(input);
      offset += before - input.size();
      record(cut);
    }
    EXPECT_LE(splitter.held(), max + delimiter.size() - 1);
  }
  record(splitter.flush());
  return result;
}

TEST(LineSplitterTest, AnyChunkingCutsLikeTheWholeStream) {
  std::mt19937 random(20240611);
  const std::vector<std::string> delimiters = {"\n", "\r\n", "ab", "aab", "aba", "abab", "<|>"};
  for (int round = 0; round < 3000; ++round) {
    const std::string& delimiter = delimiters[random() % delimiters.size()];
    const std::size_t max = random() % 9;
    std::string data(random() % 60, ' ');
    for (auto& c : data) c = "ab\r\n<|>"[random() % 7];
    const Cutting expected = cut_whole(data, delimiter, max);
    const Cutting actual = cut_in_chunks(data, delimiter, max, random);
    ASSERT_EQ(actual, expected) << "delimiter \"" << delimiter << "\" max " << max << " data \"" << data << "\"";
  }
}

}  // namespace
}  // namespace kumasim::shipper
