// Which files a File source reads (dkp-log-shipper.md §4): `file.include`
// globs expanded with POSIX glob(3) and `file.exclude` globs removing matches,
// both written as the node sees its paths and resolved under a root directory
// (a test tree, or "/" for the real file system).
#pragma once

#include <string>
#include <vector>

namespace kumasim::shipper {

class NodeTree {
 public:
  // "" and "/" mean the real file system.
  explicit NodeTree(std::string root);

  // Node paths ("/var/log/kube-audit/audit.log") of everything the includes
  // match under the root and no exclude matches, sorted, without duplicates.
  // Excludes match the whole node path with fnmatch(3) without FNM_PATHNAME,
  // like Vector's glob::Pattern::matches_path: `*` also crosses '/'.
  std::vector<std::string> match(const std::vector<std::string>& include,
                                 const std::vector<std::string>& exclude) const;

  // Where a node path is on this machine.
  std::string on_disk(const std::string& node_path) const;

 private:
  std::string prefix(const std::string& node_path) const;

  std::string root_;  // without a trailing '/'; "" for the real file system
};

}  // namespace kumasim::shipper
