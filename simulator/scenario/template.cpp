#include "simulator/scenario/template.h"

#include <algorithm>

namespace kumasim::scenario {
namespace {

constexpr std::size_t kListedNames = 20;

std::string at_byte(std::size_t offset) { return " at byte " + std::to_string(offset); }

// Walks `text`, calling on_text(piece) for literal text and on_name(name,
// offset) for each placeholder; returns the first syntax error, else "".
template <class OnText, class OnName>
std::string scan(std::string_view text, OnText on_text, OnName on_name) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto dollar = text.find('$', i);
    if (dollar == std::string_view::npos) {
      on_text(text.substr(i));
      break;
    }
    on_text(text.substr(i, dollar - i));
    if (text.substr(dollar, 3) == "$${") {  // the escape: a literal "${"
      on_text("${");
      i = dollar + 3;
      continue;
    }
    if (text.substr(dollar, 2) != "${") {
      on_text("$");
      i = dollar + 1;
      continue;
    }
    const auto close = text.find('}', dollar + 2);
    if (close == std::string_view::npos) {
      return "unterminated \"${\"" + at_byte(dollar) + " (a placeholder is ${NAME}; write $${ for a literal ${)";
    }
    const std::string_view name = text.substr(dollar + 2, close - dollar - 2);
    if (!valid_placeholder_name(name)) {
      std::string shown(name.substr(0, 60));
      if (name.size() > 60) shown += "...";
      return "invalid placeholder name \"" + shown + "\"" + at_byte(dollar) +
             " (letters, digits, '_', '-' and '.'; write $${ for a literal ${)";
    }
    if (auto error = on_name(name, dollar); !error.empty()) return error;
    i = close + 1;
  }
  return {};
}

}  // namespace

bool valid_placeholder_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return false;
  if (name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

Substituted substitute(std::string_view text, const std::map<std::string, std::string>& values) {
  Substituted out;
  out.text.reserve(text.size());
  out.error = scan(
      text, [&](std::string_view piece) { out.text += piece; },
      [&](std::string_view name, std::size_t offset) -> std::string {
        const auto it = values.find(std::string(name));
        if (it != values.end()) {
          out.text += it->second;
          return {};
        }
        std::string known;
        std::size_t listed = 0;
        for (const auto& [key, value] : values) {
          if (listed == kListedNames) {
            known += ", ... (" + std::to_string(values.size() - kListedNames) + " more)";
            break;
          }
          known += (listed++ == 0 ? "" : ", ") + key;
        }
        if (values.empty()) known = "none";
        return "unknown placeholder ${" + std::string(name) + "}" + at_byte(offset) + " (known: " + known + ")";
      });
  if (!out.error.empty()) out.text.clear();
  return out;
}

std::variant<std::vector<Placeholder>, std::string> placeholders_in(std::string_view text) {
  std::vector<Placeholder> found;
  auto error = scan(
      text, [](std::string_view) {},
      [&](std::string_view name, std::size_t offset) -> std::string {
        found.push_back(Placeholder{std::string(name), offset});
        return {};
      });
  if (!error.empty()) return error;
  return found;
}

}  // namespace kumasim::scenario
