#include "shipper/pipeline/extra_labels.h"

#include "formats/utf8.h"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>

namespace kumasim::shipper {
namespace {

// ---------------------------------------------------------------- parse_json
//
// parsed_data comes from VRL's parse_json (VRL 0.21, Vector 0.44): serde_json
// over the lossy UTF-8 form of the message. nlohmann's parser accepts the same
// grammar with four differences, evened out here:
//  - nlohmann skips a leading UTF-8 BOM; serde_json rejects it (VRL strips
//    one only since 0.24);
//  - serde_json stops at 128 nested arrays/objects (RecursionLimitExceeded);
//  - serde_json rejects a number that overflows to infinity;
//  - serde_json reads `-0` as the float -0.0, nlohmann as the integer 0.
// Unsigned numbers are folded into VRL's integer/float split.

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr int kMaxNesting = 127;  // serde_json fails on the 128th level

bool is_number_end(char c) { return !(c >= '0' && c <= '9') && c != '.' && c != 'e' && c != 'E'; }

// Rewrites every `-0` number token (outside strings) as `-0.0`; empty when
// there is none, which is the usual case.
std::string with_negative_zero_as_float(std::string_view text) {
  std::string out;
  std::size_t copied = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '-' && i + 1 < text.size() && text[i + 1] == '0' &&
               (i + 2 == text.size() || is_number_end(text[i + 2]))) {
      out.append(text.substr(copied, i + 2 - copied));
      out += ".0";
      copied = i + 2;
    }
  }
  if (!out.empty()) out.append(text.substr(copied));
  return out;
}

std::optional<nlohmann::json> parse_json_as_vrl(std::string_view text) {
  if (text.substr(0, kBom.size()) == kBom) return std::nullopt;
  std::string repaired;
  if (!formats::utf8::is_valid(text)) {
    formats::utf8::append_lossy(text, repaired);
    text = repaired;
  }
  const std::string rewritten = with_negative_zero_as_float(text);
  if (!rewritten.empty()) text = rewritten;

  bool rejected = false;  // by a serde_json limit nlohmann does not have
  const auto callback = [&rejected](int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxNesting)
      rejected = true;
    if (event == Event::value) {
      if (parsed.is_number_unsigned()) {
        const auto number = parsed.get<std::uint64_t>();
        if (number <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
          parsed = static_cast<std::int64_t>(number);
        else
          parsed = static_cast<double>(number);
      } else if (parsed.is_number_float() && !std::isfinite(parsed.get<double>())) {
        rejected = true;
      }
    }
    return !rejected;  // nothing more is worth keeping once rejected
  };
  nlohmann::json result = nlohmann::json::parse(text.data(), text.data() + text.size(), callback, false);
  if (result.is_discarded() || rejected) return std::nullopt;
  return result;
}

// ---------------------------------------------------------------- validation

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

// ^[a-zA-Z0-9_\-]+$
bool is_static_value(std::string_view value) {
  if (value.empty()) return false;
  for (char c : value)
    if (!is_alnum(c) && c != '_' && c != '-') return false;
  return true;
}

// The inside of ^\{\{\ [a-zA-Z0-9\\\-][a-zA-Z0-9\[\]_\\\-\.]+\ \}\}$, or nullopt.
std::optional<std::string_view> template_inner(std::string_view value) {
  constexpr std::string_view open = "{{ ", close = " }}";
  if (value.size() < open.size() + 2 + close.size() || value.substr(0, open.size()) != open ||
      value.substr(value.size() - close.size()) != close)
    return std::nullopt;
  const std::string_view inner = value.substr(open.size(), value.size() - open.size() - close.size());
  if (!is_alnum(inner.front()) && inner.front() != '\\' && inner.front() != '-') return std::nullopt;
  for (char c : inner.substr(1))
    if (!is_alnum(c) && c != '[' && c != ']' && c != '_' && c != '\\' && c != '-' && c != '.') return std::nullopt;
  return inner;
}

// §16.9: letters, digits, `_`, `.` and `-`.
bool is_valid_key(std::string_view key) {
  for (char c : key)
    if (!is_alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

bool is_forbidden_key(std::string_view key) {
  constexpr std::array<std::string_view, 8> forbidden = {"pod",   "pod_ip",    "pod_owner", "parsed_data",
                                                         "namespace", "image", "container", "node"};
  for (std::string_view name : forbidden)
    if (key == name) return true;
  return false;
}

}  // namespace

std::variant<ExtraLabels, ExtraLabels::Error> ExtraLabels::compile(const std::map<std::string, std::string>& labels) {
  ExtraLabels compiled;
  for (const auto& [key, value] : labels) {  // std::map: the byte order of DKP's sort.Strings
    if (key.empty()) continue;  // DKP's generator emits nothing for an empty key
    if (!is_valid_key(key)) return Error{key, "extralabel-key-invalid", "keys hold letters, digits, `_`, `.` and `-`"};
    if (is_forbidden_key(key)) return Error{key, "extralabel-key-forbidden", "this key is reserved by DKP"};
    auto target = label_key_path(key);
    if (auto* error = std::get_if<PathError>(&target))
      return Error{key, "extralabel-key-invalid", "DKP writes ." + key + ", which VRL rejects: " + error->reason};
    Assignment assignment{std::get<FieldPath>(std::move(target)), std::nullopt, {}};
    if (is_static_value(value)) {
      assignment.static_value = value;
    } else if (const auto inner = template_inner(value)) {
      // DKP recognizes a template only when its path starts with a letter or
      // digit; otherwise it writes the value as a VRL string, whose `{{ }}`
      // VRL then reads as a template of an undefined variable.
      if (!is_alnum(inner->front()))
        return Error{key, "extralabel-value-invalid",
                     "the API server accepts `" + value + "`, but DKP emits it as a VRL string that does not compile"};
      auto source = parse_template_path(*inner);
      if (auto* error = std::get_if<PathError>(&source)) return Error{key, "extralabel-value-invalid", error->reason};
      assignment.source = std::get<FieldPath>(std::move(source));
    } else {
      return Error{key, "extralabel-value-invalid",
                   "a value is [a-zA-Z0-9_-]+ or a template `{{ path }}` with one space inside each brace pair"};
    }
    compiled.assignments_.push_back(std::move(assignment));
  }
  return compiled;
}

void ExtraLabels::apply(nlohmann::json& event) const {
  if (!event.contains("parsed_data")) event["parsed_data"] = parse_message(event);
  for (const Assignment& assignment : assignments_) {
    if (assignment.static_value) {
      assign(event, assignment.target, *assignment.static_value);
      continue;
    }
    // Read afresh each time: an earlier label may have written under parsed_data.
    const nlohmann::json* value = lookup(event["parsed_data"], assignment.source);
    if (value) assign(event, assignment.target, *value);  // `if exists(...)`: a missing path sets nothing
  }
}

nlohmann::json parse_message(const nlohmann::json& event) {
  const auto message = event.find("message");
  if (message == event.end()) return nullptr;
  // parse_json fails on a non-string, and DKP then copies .message as it is.
  if (!message->is_string()) return *message;
  const std::string& text = message->get_ref<const std::string&>();
  if (auto parsed = parse_json_as_vrl(text)) return std::move(*parsed);
  return text;
}

}  // namespace kumasim::shipper
