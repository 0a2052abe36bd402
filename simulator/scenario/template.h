// `${NAME}` placeholders in scenario text (manifests, shipper arguments and
// files; docs/scenarios.md): substituted once, left to right, with the values
// the runner knows (`listener.kuma.address`, `sandbox`, `run_dir`, ...).
// `$${` is a literal `${`; any other `$` is itself. Replacement text is not
// scanned again.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kumasim::scenario {

// The result of substitute(): `text` when `error` is empty.
struct Substituted {
  std::string text;
  std::string error;  // "unknown placeholder ${x} at byte 12 (known: a, b)"; empty on success
  bool ok() const { return error.empty(); }
};

// Replaces every `${NAME}` with values.at(NAME). Errors (the first one):
// an unknown name (naming it and listing the known names, sorted, cut after
// 20), an unterminated `${` or an invalid name (both with the byte offset of
// the `$`).
Substituted substitute(std::string_view text, const std::map<std::string, std::string>& values);

// One `${NAME}` of a text: NAME and the byte offset of its `$`.
struct Placeholder {
  std::string name;
  std::size_t offset = 0;
};

// Every placeholder of `text`, in order, or the syntax error that substitute()
// would report (unterminated `${`, invalid name). Used to check scenario text
// when it is loaded, before the names have values.
std::variant<std::vector<Placeholder>, std::string> placeholders_in(std::string_view text);

// A placeholder name: one or more of [A-Za-z0-9_.-], not starting or ending
// with '.', without "..".
bool valid_placeholder_name(std::string_view name);

}  // namespace kumasim::scenario
