// Syslog encoding: the DKP log-shipper line (dkp-log-shipper.md §10.4) and a
// plain RFC 5424 encoder.
//
// encode_dkp() mirrors the shipper's VRL program (deckhouse
// modules/460-log-shipper/hooks/internal/vrl/syslog.go): `a || b` picks the
// first value that is not null and not false, and `to_string!` aborts on
// objects and arrays. An abort leaves the event unmodified, so the Text codec
// then sends the raw message.
#include "formats/syslog.h"
#include "formats/event.h"
#include "formats/json.h"
#include "formats/text.h"

#include <nlohmann/json.hpp>

#include <array>
#include <initializer_list>
#include <utility>

namespace kumasim::formats::syslog {
namespace {

using json = nlohmann::json;

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// VRL truthiness, as used by `||`: null and false fall through.
bool present(const json* v) { return v && !v->is_null() && !(v->is_boolean() && !v->get<bool>()); }

const json* first_present(std::initializer_list<std::string_view> paths, const json& event) {
  for (std::string_view path : paths) {
    const json* v = event::find(event, path);
    if (present(v)) return v;
  }
  return nullptr;
}

// VRL to_string!: nullopt where it aborts (objects and arrays).
std::optional<std::string> to_text(const json& v) {
  switch (v.type()) {
    case json::value_t::string: return v.get_ref<const std::string&>();
    case json::value_t::boolean: return std::string(v.get<bool>() ? "true" : "false");
    case json::value_t::number_integer: return std::to_string(v.get<std::int64_t>());
    case json::value_t::number_unsigned: return std::to_string(v.get<std::uint64_t>());
    case json::value_t::number_float: return event::rust_float(v.get<double>());
    case json::value_t::null: return std::string();
    default: return std::nullopt;
  }
}

std::optional<std::string> text_or(const json* v, std::string_view otherwise) {
  return v ? to_text(*v) : std::string(otherwise);
}

// to_syslog_severity!: exact lowercase keywords; nullopt aborts the program.
std::optional<int> severity_of(const json& event) {
  static constexpr std::array<std::pair<std::string_view, int>, 11> kKeywords{{
      {"emerg", 0}, {"panic", 0}, {"alert", 1}, {"crit", 2}, {"err", 3}, {"error", 3},
      {"warning", 4}, {"warn", 4}, {"notice", 5}, {"info", 6}, {"debug", 7},
  }};
  const json* s = event::find(event, "syslog.severity");
  if (!s || !s->is_string()) return 6;  // absent, or not a string (e.g. a number from a template)
  for (const auto& [keyword, level] : kKeywords) {
    if (keyword == s->get_ref<const std::string&>()) return level;
  }
  return std::nullopt;
}

// VRL's encode_json: serde_json's bytes, which json::encode reproduces.
std::string dump(const json& v) {
  std::string out;
  formats::json::encode(v, out);
  return out;
}

// `encode_json(.)` as the program sees the event: severity already replaced by its number.
std::string event_json(const json& event, int severity) {
  json copy = event.is_object() ? event : json::object();
  json& syslog = copy["syslog"];
  if (!syslog.is_object()) syslog = json::object();
  syslog["severity"] = severity;
  return dump(copy);
}

// The Text codec, which sends the event when the program aborted.
std::string text_codec(const json& event) {
  std::string out;
  text::encode(event, out);
  return out;
}

void append_param_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
}

void append_field(std::string& out, const std::optional<std::string_view>& v) {
  out += v ? *v : std::string_view("-");
  out += ' ';
}

}  // namespace

Encoded encode_dkp(const json& event, std::string_view node_name) {
  const std::optional<int> severity = severity_of(event);
  if (!severity) return {text_codec(event), true};
  const json* message = event::find(event, "message");
  const std::optional<std::string> parts[] = {
      text_or(event::find(event, "timestamp"), ""),  // to_string!(.timestamp): no `||`; null gives ""
      text_or(first_present({"kubernetes.pod_name", "hostname"}, event), node_name),
      text_or(first_present({"app", "kubernetes.labels.app", "syslog.app"}, event), "-"),
      text_or(first_present({"syslog.message_id"}, event), "-"),
      present(message) ? to_text(*message) : event_json(event, *severity),
  };
  for (const auto& part : parts) {
    if (!part) return {text_codec(event), true};
  }
  const auto& [timestamp, hostname, app, msgid, body] = parts;
  // Appends rather than `"<" + ...`: GCC 12 warns falsely (-Wrestrict) on operator+ with a literal.
  std::string line = "<";
  line.append(std::to_string(8 + *severity)).append(">1 ");
  line.reserve(line.size() + timestamp->size() + hostname->size() + app->size() + msgid->size() + body->size() + 16);
  line.append(*timestamp).append(" ").append(*hostname).append(" ").append(*app);
  line.append(" - ").append(*msgid).append(" - ").append(kBom).append(*body);
  return {std::move(line), false};
}

std::string encode_rfc5424(const Message& m) {
  std::string out = "<";
  out.append(std::to_string(m.pri.value_or(m.facility.value_or(1) * 8 + m.severity.value_or(5)))).append(">");
  out.append(std::to_string(m.version.value_or(1))).append(" ");
  for (const auto* field : {&m.timestamp, &m.hostname, &m.app_name, &m.procid, &m.msgid}) append_field(out, *field);
  if (m.sd.empty()) out += '-';
  for (const Element& element : m.sd) {
    out.append("[").append(element.id);
    for (const Param& param : m.params_of(element)) {
      out.append(" ").append(param.name).append("=\"");
      if (param.escaped) {
        out.append(param.value);
      } else {
        append_param_value(out, param.value);
      }
      out += '"';
    }
    out += ']';
  }
  if (m.msg) out.append(" ").append(m.bom ? kBom : std::string_view()).append(*m.msg);
  return out;
}

}  // namespace kumasim::formats::syslog
