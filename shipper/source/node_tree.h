// Which files a File source reads (dkp-log-shipper.md §4): `file.include`
// globs expanded and `file.exclude` globs removing matches, both written as
// the node sees its paths and resolved under a root directory (a test tree,
// or "/" for the real file system).
//
// Includes follow Vector's file source: `glob::glob_with(pattern,
// MatchOptions::default())` of the Rust `glob` crate 0.3 (Vector v0.44.0
// passes MatchOptions::default(), which in glob 0.3.x is the derived Default:
// case_sensitive FALSE, require_literal_separator false,
// require_literal_leading_dot false; MatchOptions::new() would be case
// sensitive). The pattern is split at '/' and each component matched against
// one directory level:
// - a component without `*`, `?` or `[` is looked up as written (so it is
//   case sensitive on Linux), except right after `**`, where it is compared
//   by name like a wildcard component;
// - a wildcard component matches names ignoring ASCII case: `*` any run of
//   characters, `?` one character (a Unicode code point), `[ab]`, `[a-z]`,
//   `[!ab]` one character in or not in the set (`[A-Z]` also takes a-z);
//   a leading dot needs no literal dot (`*.log` matches `.h.log`); `\` is an
//   ordinary character; a name that is not UTF-8 never matches (the crate
//   skips it);
// - `**` as a whole component matches zero or more directories, hidden ones
//   included; symlinks to directories are followed, but not back into a
//   directory the walk is already inside (the crate would loop until ELOOP);
//   a pattern ending in `**` matches the directories below, not the files;
// - a wildcard component starting with a literal dot (`.*`) also matches
//   `.` and `..`;
// - a trailing '/' keeps only directories.
// A pattern that the crate refuses (`***`, `**` not a whole component, a `[`
// without its `]`) makes Vector panic; here the constructor throws, as it
// does for a pattern that is not UTF-8 (no Vector configuration holds one).
//
// Excludes use POSIX fnmatch(3) without flags on the whole node path: `*`,
// `?` and `[...]` also match '/' and a leading dot, case sensitively, like
// Vector's `Pattern::matches` (MatchOptions::new()). Where fnmatch differs
// from that: `\` escapes the next character, `[^...]` negates as `[!...]`
// does, `**` is two `*` (so `/a/**/b` needs at least one directory between
// `a` and `b`), a `[` without its `]` is literal, and `?` takes one byte.
// Excludes are checked against the crate's syntax all the same, since Vector
// refuses to start with one it cannot compile. (Vector also panics when an
// exclude meets a path that is not UTF-8; fnmatch just compares the bytes.)
#pragma once

#include <string>
#include <vector>

namespace kumasim::shipper {

class NodeTree {
 public:
  // "" and "/" mean the real file system. Throws std::invalid_argument naming
  // the first pattern the glob crate would refuse, with its reason.
  NodeTree(std::string root, std::vector<std::string> include, std::vector<std::string> exclude);
  ~NodeTree();  // where Pattern is complete

  // Node paths ("/var/log/kube-audit/audit.log") of everything the includes
  // match under the root and no exclude matches, sorted, without duplicates.
  // Unreadable directories are skipped; files that cannot be opened are
  // reported when they are opened.
  std::vector<std::string> match() const;

  // Where a node path is on this machine.
  std::string on_disk(const std::string& node_path) const;

 private:
  struct Pattern;  // an include, compiled
  class Walk;

  std::string prefix(const std::string& node_path) const;
  bool excluded(const std::string& node_path) const;

  std::string root_;  // without a trailing '/'; "" for the real file system
  std::vector<Pattern> include_;
  std::vector<std::string> exclude_;
};

}  // namespace kumasim::shipper
