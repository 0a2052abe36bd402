#include "shipper/source/node_tree.h"

#include "formats/utf8.h"

#include <algorithm>
#include <dirent.h>
#include <fnmatch.h>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <sys/stat.h>
#include <utility>

namespace kumasim::shipper {
namespace {

// Code points of text already known to be valid UTF-8: the crate matches
// characters, so `?` takes "é" whole.
std::u32string decode(std::string_view text) {
  std::u32string chars;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const std::size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t c = length == 1 ? lead : lead & (0x7F >> length);
    for (std::size_t k = 1; k < length; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    chars.push_back(c);
    i += length;
  }
  return chars;
}

char32_t fold(char32_t c) { return c >= U'A' && c <= U'Z' ? c + (U'a' - U'A') : c; }

// One character of `[...]`, or a range `a-z` of them.
struct Range {
  char32_t first, last;
};

// case_sensitive = false: ASCII letters match either case, and a range folds
// case only when both its ends are letters (the crate's in_char_specifiers).
bool in_range(const Range& range, char32_t c) {
  if (c >= range.first && c <= range.last) return true;
  const char32_t first = fold(range.first), last = fold(range.last);
  const auto letter = [](char32_t x) { return x >= U'a' && x <= U'z'; };
  return letter(first) && letter(last) && c < 0x80 && fold(c) >= first && fold(c) <= last;
}

struct Token {
  enum class Kind { character, any_character, any_sequence, in_set, not_in_set };
  Kind kind;
  char32_t character = 0;  // Kind::character
  std::vector<Range> set;  // Kind::in_set, Kind::not_in_set
};

bool matches_one(const Token& token, char32_t c) {
  const auto in = [&](const Range& range) { return in_range(range, c); };
  switch (token.kind) {
    case Token::Kind::character: return fold(c) == fold(token.character);
    case Token::Kind::any_character: return true;
    case Token::Kind::in_set: return std::any_of(token.set.begin(), token.set.end(), in);
    case Token::Kind::not_in_set: return std::none_of(token.set.begin(), token.set.end(), in);
    case Token::Kind::any_sequence: break;
  }
  return false;
}

// Backtracking to the last `*` is enough: a component has no separator, and
// a leading dot needs no literal dot (require_literal_* are false).
bool matches(const std::vector<Token>& tokens, std::u32string_view name) {
  std::size_t t = 0, n = 0;
  // After the last `*`: the token following it and the name position to retry from.
  std::optional<std::pair<std::size_t, std::size_t>> star;
  while (n < name.size()) {
    if (t < tokens.size() && tokens[t].kind == Token::Kind::any_sequence) {
      star = {++t, n};
    } else if (t < tokens.size() && matches_one(tokens[t], name[n])) {
      ++t;
      ++n;
    } else if (star) {
      t = star->first;
      n = ++star->second;
    } else {
      return false;
    }
  }
  while (t < tokens.size() && tokens[t].kind == Token::Kind::any_sequence) ++t;
  return t == tokens.size();
}

struct Origin {
  std::string_view kind;  // "include" or "exclude"
  const std::string& pattern;
};

[[noreturn]] void refuse(const Origin& origin, const char* why) {
  throw std::invalid_argument(std::string(origin.kind) + " \"" + origin.pattern + "\" is not a valid glob: " + why);
}

// `[...]` or `[!...]` opening at chars[i], as the crate reads it: the first
// character of the set may be `]` itself. Returns the index past the closing `]`.
std::size_t read_set(std::u32string_view chars, std::size_t i, Token& token, const Origin& origin) {
  const bool negated = i + 1 < chars.size() && chars[i + 1] == U'!';
  const std::size_t first = i + (negated ? 2 : 1);
  const std::size_t close = first + 2 <= chars.size() ? chars.find(U']', first + 1) : std::u32string_view::npos;
  if (close == std::u32string_view::npos) refuse(origin, "invalid range pattern");
  token.kind = negated ? Token::Kind::not_in_set : Token::Kind::in_set;
  for (std::size_t k = first; k < close;) {
    const bool range = k + 2 < close && chars[k + 1] == U'-';
    token.set.push_back({chars[k], chars[range ? k + 2 : k]});
    k += range ? 3 : 1;
  }
  return close + 1;
}

// One '/'-separated piece of an include, compiled as glob::Pattern::new does.
struct Component {
  std::string text;        // as written
  bool recursive = false;  // `**`
  bool literal = true;     // no `*`, `?` or `[`: looked up by name rather than listed
  std::vector<Token> tokens;
};

// Also checks whole patterns (an exclude, an include before it is split): a
// `**` must then stand between separators.
Component compile(std::string_view text, const Origin& origin) {
  Component component{std::string(text), false, true, {}};
  const std::u32string chars = decode(text);
  for (std::size_t i = 0; i < chars.size();) {
    Token token{Token::Kind::character, chars[i], {}};
    if (chars[i] == U'*') {
      const std::size_t end = std::min(chars.find_first_not_of(U'*', i), chars.size());
      if (end - i > 2) refuse(origin, "wildcards are either regular `*` or recursive `**`");
      if (end - i == 2 && ((i > 0 && chars[i - 1] != U'/') || (end < chars.size() && chars[end] != U'/'))) {
        refuse(origin, "recursive wildcards must form a single path component");
      }
      component.literal = false;
      component.recursive = end - i == 2;
      if (end - i == 1) component.tokens.push_back({Token::Kind::any_sequence, 0, {}});
      i = end;
      continue;
    }
    if (chars[i] == U'?') {
      token.kind = Token::Kind::any_character;
      ++i;
    } else if (chars[i] == U'[') {
      i = read_set(chars, i, token, origin);
    } else {
      ++i;
    }
    component.literal = component.literal && token.kind == Token::Kind::character;
    component.tokens.push_back(std::move(token));
  }
  return component;
}

void check_syntax(const std::string& pattern, const Origin& origin) {
  // The crate takes patterns as Rust strings.
  if (!formats::utf8::is_valid(pattern)) refuse(origin, "it is not UTF-8");
  compile(pattern, origin);
}

bool name_matches(const Component& component, std::string_view name) {
  // The crate skips names that are not UTF-8 (its FIXME #9639).
  return formats::utf8::is_valid(name) && matches(component.tokens, decode(name));
}

bool starts_with_dot(const Component& component) {
  return !component.tokens.empty() && component.tokens[0].kind == Token::Kind::character &&
         component.tokens[0].character == U'.';
}

std::string join(const std::string& node, std::string_view name) {
  if (node.empty()) return std::string(name);
  return node.back() == '/' ? node + std::string(name) : node + '/' + std::string(name);
}

struct Entry {
  std::string name;
  unsigned char type;  // d_type
};

// Read whole before anything is walked below it: one directory open at a time.
std::vector<Entry> list(const std::string& directory) {
  std::vector<Entry> entries;
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(directory.c_str()), ::closedir);
  if (!dir) return entries;  // unreadable: skipped, as the crate skips it after reporting
  while (const dirent* entry = ::readdir(dir.get())) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") entries.push_back({std::string(name), entry->d_type});
  }
  return entries;
}

using DirectoryIdentity = std::pair<dev_t, ino_t>;

// Following symlinks, as the crate's is_dir does.
std::optional<DirectoryIdentity> directory_at(const std::string& disk_path) {
  struct stat status {};
  if (::stat(disk_path.c_str(), &status) != 0 || !S_ISDIR(status.st_mode)) return std::nullopt;
  return DirectoryIdentity{status.st_dev, status.st_ino};
}

}  // namespace

struct NodeTree::Pattern {
  bool absolute = false;          // from the root; else relative to it
  bool directories_only = false;  // a trailing '/'
  std::vector<Component> components;
};

// The crate's Paths iterator, depth first: enter() is its fill_todo (look in
// a directory for one component), consider() its next() (an entry listed for
// a component), matched() its add (a path matched a component).
class NodeTree::Walk {
 public:
  Walk(const NodeTree& tree, const Pattern& pattern, std::vector<std::string>& found)
      : tree_(tree), components_(pattern.components), directories_only_(pattern.directories_only), found_(found) {}

  void from(const std::string& node) {
    // "/" alone names no file to read.
    if (!components_.empty()) enter(node, 0);
  }

 private:
  void enter(const std::string& node, std::size_t index) {
    const Component& component = components_[index];
    if (component.literal) {
      const std::string child = join(node, component.text);
      struct stat status {};
      // lstat: a dangling symlink is matched too, as since glob 0.3.2; the source finds nothing to read there.
      if (::lstat(disk(child).c_str(), &status) == 0) matched(child, index);
      return;
    }
    const auto directory = directory_at(disk(node));
    if (!directory) return;
    // A symlink back into a directory this `**` is already inside would make
    // the crate walk the same files again until ELOOP.
    if (component.recursive && std::find(inside_.begin(), inside_.end(), *directory) != inside_.end()) return;
    if (component.recursive) inside_.push_back(*directory);
    for (const Entry& entry : list(disk(node))) consider(join(node, entry.name), entry, index);
    if (component.recursive) inside_.pop_back();
    // Directory listings omit `.` and `..`; the crate tries them for a component starting with a literal dot.
    if (!starts_with_dot(component)) return;
    for (const char* special : {".", ".."}) {
      if (name_matches(component, special)) matched(join(node, special), index);
    }
  }

  void consider(const std::string& node, const Entry& entry, std::size_t index) {
    if (components_[index].recursive) {
      std::size_t last = index;  // `**/**` is one `**`
      while (last + 1 < components_.size() && components_[last + 1].recursive) ++last;
      const bool directory = is_directory(node, entry);
      if (directory) enter(node, last);  // one more directory under `**`
      if (last + 1 == components_.size()) {
        if (directory) found_.push_back(node);  // a trailing `**` matches directories only
        return;
      }
      index = last + 1;  // `**` matching no directory: the entry faces the next component
    }
    if (name_matches(components_[index], entry.name)) matched(node, index);
  }

  void matched(const std::string& node, std::size_t index) {
    if (index + 1 < components_.size()) {
      enter(node, index + 1);
    } else if (!directories_only_ || directory_at(disk(node))) {
      found_.push_back(node);
    }
  }

  bool is_directory(const std::string& node, const Entry& entry) const {
    if (entry.type == DT_DIR) return true;
    return (entry.type == DT_LNK || entry.type == DT_UNKNOWN) && directory_at(disk(node));
  }

  // A relative pattern starts at the root itself, which is "" for the real file system.
  std::string disk(const std::string& node) const {
    std::string path = tree_.on_disk(node);
    return path.empty() ? "." : path;
  }

  const NodeTree& tree_;
  const std::vector<Component>& components_;
  bool directories_only_;
  std::vector<std::string>& found_;
  std::vector<DirectoryIdentity> inside_;  // the directories the current `**` descent lists
};

NodeTree::NodeTree(std::string root, std::vector<std::string> include, std::vector<std::string> exclude)
    : root_(std::move(root)), exclude_(std::move(exclude)) {
  while (!root_.empty() && root_.back() == '/') root_.pop_back();
  for (const auto& pattern : include) {
    const Origin origin{"include", pattern};
    check_syntax(pattern, origin);  // glob_with compiles the whole pattern, then each component
    Pattern compiled{pattern.starts_with('/'), pattern.ends_with('/'), {}};
    for (std::size_t start = 0; start < pattern.size();) {
      const std::size_t end = std::min(pattern.find('/', start), pattern.size());
      const std::string_view piece = std::string_view(pattern).substr(start, end - start);
      if (!piece.empty()) compiled.components.push_back(compile(piece, origin));
      start = end + 1;
    }
    include_.push_back(std::move(compiled));
  }
  for (const auto& pattern : exclude_) check_syntax(pattern, Origin{"exclude", pattern});
}

NodeTree::~NodeTree() = default;

std::string NodeTree::on_disk(const std::string& node_path) const { return prefix(node_path) + node_path; }

// Node paths are absolute; a relative one is taken relative to the root.
std::string NodeTree::prefix(const std::string& node_path) const {
  if (root_.empty() || node_path.starts_with('/')) return root_;
  return root_ + '/';
}

bool NodeTree::excluded(const std::string& node_path) const {
  return std::any_of(exclude_.begin(), exclude_.end(),
                     [&](const std::string& pattern) { return ::fnmatch(pattern.c_str(), node_path.c_str(), 0) == 0; });
}

std::vector<std::string> NodeTree::match() const {
  std::vector<std::string> found;
  for (const auto& pattern : include_) Walk(*this, pattern, found).from(pattern.absolute ? "/" : "");
  std::erase_if(found, [&](const std::string& path) { return excluded(path); });
  std::sort(found.begin(), found.end());
  found.erase(std::unique(found.begin(), found.end()), found.end());
  return found;
}

}  // namespace kumasim::shipper
