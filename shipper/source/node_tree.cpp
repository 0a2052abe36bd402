#include "shipper/source/node_tree.h"

#include <algorithm>
#include <fnmatch.h>
#include <glob.h>
#include <memory>
#include <string_view>
#include <utility>

namespace kumasim::shipper {
namespace {

// The root is a literal directory: its own '*', '?', '[' or '\' must not act as patterns.
std::string escape_glob(std::string_view literal) {
  std::string escaped;
  for (const char c : literal) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') escaped += '\\';
    escaped += c;
  }
  return escaped;
}

bool excluded(const std::string& node_path, const std::vector<std::string>& exclude) {
  return std::any_of(exclude.begin(), exclude.end(),
                     [&](const std::string& pattern) { return ::fnmatch(pattern.c_str(), node_path.c_str(), 0) == 0; });
}

}  // namespace

NodeTree::NodeTree(std::string root) : root_(std::move(root)) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
}

std::string NodeTree::on_disk(const std::string& node_path) const { return prefix(node_path) + node_path; }

// Node paths are absolute; a relative one is taken relative to the root.
std::string NodeTree::prefix(const std::string& node_path) const {
  if (root_.empty() || node_path.starts_with('/')) return root_;
  return root_ + '/';
}

std::vector<std::string> NodeTree::match(const std::vector<std::string>& include,
                                         const std::vector<std::string>& exclude) const {
  std::vector<std::string> found;
  for (const auto& pattern : include) {
    const std::string root = prefix(pattern);
    glob_t matches{};
    // Unreadable directories are skipped (no GLOB_ERR); files that cannot be
    // opened are reported when they are opened.
    const int rc = ::glob((escape_glob(root) + pattern).c_str(), 0, nullptr, &matches);
    const std::unique_ptr<glob_t, void (*)(glob_t*)> release(&matches, ::globfree);
    if (rc != 0) continue;  // GLOB_NOMATCH, or out of memory: nothing this time
    for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
      std::string node_path = std::string(matches.gl_pathv[i]).substr(root.size());
      if (!excluded(node_path, exclude)) found.push_back(std::move(node_path));
    }
  }
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

}  // namespace kumasim::shipper
