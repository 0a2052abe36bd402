#include "simulator/decode_output.h"

#include "formats/json.h"
#include "formats/utf8.h"

#include <algorithm>

namespace kumasim::cli {

using namespace kumasim::formats;

namespace {

// Lints as [{"id":…,"level":…,"detail":…}], keys in that order for readers.
void append_lints_json(const Lints& lints, std::string& out) {
  out.push_back('[');
  for (std::size_t i = 0; i < lints.size(); ++i) {
    const auto& info = lint_info(lints[i].id);
    out += i == 0 ? "{\"id\":" : ",{\"id\":";
    json::encode_string(info.name, out);
    out += ",\"level\":";
    json::encode_string(to_string(info.level), out);
    if (!lints[i].detail.empty()) {
      out += ",\"detail\":";
      json::encode_string(lints[i].detail, out);
    }
    out.push_back('}');
  }
  out.push_back(']');
}

// A value for a text line: control characters escaped so it stays on one
// line, cut after 60 bytes (at a character boundary) with its size.
std::string shown(std::string_view value) {
  constexpr std::size_t kMax = 60;
  std::size_t cut = std::min(value.size(), kMax);
  while (cut < value.size() && cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  std::string text;
  for (const char c : value.substr(0, cut)) {
    if (c == '\n') text += "\\n";
    else if (c == '\r') text += "\\r";
    else if (c == '\t') text += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20) text += "\\x" + std::string{"0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 0xF]};
    else text += c;
  }
  std::string out;
  utf8::append_lossy(text, out);
  if (cut < value.size()) out += "… (" + std::to_string(value.size()) + " bytes)";
  return out;
}

void append_map(std::string_view title, const std::map<std::string, std::string>& map, std::string& out) {
  if (map.empty()) return;
  out.append("  ").append(title).append(":\n");
  for (const auto& [name, value] : map) out.append("    ").append(name).append(" = ").append(shown(value)).append("\n");
}

}  // namespace

void append_json_line(const FrameReport& report, std::string& out) {
  const Normalized& r = report.result;
  out += r.ok() ? "{\"ok\":true" : "{\"ok\":false";
  out += ",\"format\":";
  json::encode_string(to_string(r.format), out);
  out += ",\"input\":";
  json::encode_string(report.input, out);
  out += ",\"offset\":" + std::to_string(report.offset);
  if (r.error) {
    out += ",\"error\":{\"offset\":" + std::to_string(r.error->offset) + ",\"reason\":";
    json::encode_string(r.error->reason, out);
    out += "}";
  }
  out += ",\"fields\":";
  json::encode(r.fields, out);
  if (!r.audit.is_null()) {
    out += ",\"audit\":";
    json::encode(r.audit, out);
  }
  out += ",\"kuma\":";
  json::encode(to_json(r.kuma), out);
  out += ",\"lints\":";
  append_lints_json(r.lints, out);
  out += "}\n";
}

void append_text(const FrameReport& report, std::string& out) {
  const Normalized& r = report.result;
  out.append(report.input).append(" @").append(std::to_string(report.offset)).append("  ");
  out.append(to_string(r.format)).append(r.ok() ? "  ok\n" : "  FAILED\n");
  if (r.error) {
    out.append("  error at byte ").append(std::to_string(r.error->offset)).append(": ").append(r.error->reason).append("\n");
  }
  append_map("KUMA", r.kuma.fields, out);
  append_map("Extra", r.kuma.extra, out);
  if (r.kuma.raw) out.append("  Raw = ").append(shown(*r.kuma.raw)).append("\n");
  for (const auto& lint : r.lints) {
    const auto& info = lint_info(lint.id);
    out.append("  lint ").append(to_string(info.level)).append(" ").append(info.name);
    if (!lint.detail.empty()) out.append(" (").append(shown(lint.detail)).append(")");
    out.append(": ").append(info.definition).append("\n");
  }
  out.append("\n");
}

}  // namespace kumasim::cli
