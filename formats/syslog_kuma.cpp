// What a decoded syslog Message means downstream: the decode-output fields,
// the KUMA normalized event (kuma-receiver.md §4.4) and the lints (§8).
#include "formats/syslog.h"

#include <nlohmann/json.hpp>

namespace kumasim::formats::syslog {
namespace {

using json = nlohmann::json;

json number_or_null(const std::optional<int>& v) { return v ? json(*v) : json(nullptr); }
json text_or_null(const std::optional<std::string_view>& v) { return v ? json(std::string(*v)) : json(nullptr); }

// {SD-ID: {PARAM-NAME: value}}; a repeated SD-ID merges, the later param wins.
json structured_data_json(const Message& m) {
  if (m.sd.empty()) return nullptr;
  json sd = json::object();
  for (const Element& element : m.sd) {
    json& params = sd[std::string(element.id)];
    if (!params.is_object()) params = json::object();
    for (const Param& p : m.params_of(element)) params[std::string(p.name)] = param_value(p);
  }
  return sd;
}

void set_if(std::map<std::string, std::string>& map, const std::string& key, const std::optional<std::string_view>& v) {
  if (v) map[key] = std::string(*v);
}

}  // namespace

json fields_json(const Message& m) {
  json j = json::object();
  j["pri"] = number_or_null(m.pri);
  j["facility"] = number_or_null(m.facility);
  j["severity"] = number_or_null(m.severity);
  j["version"] = number_or_null(m.version);
  j["timestamp"] = text_or_null(m.timestamp);
  j["hostname"] = text_or_null(m.hostname);
  j["app_name"] = text_or_null(m.app_name);
  j["procid"] = text_or_null(m.procid);
  j["msgid"] = text_or_null(m.msgid);
  j["structured_data"] = structured_data_json(m);
  j["msg"] = text_or_null(m.msg);
  return j;  // exactly these keys (issue #2); consumed DKP labels are in the KUMA view's Extra
}

KumaEvent kuma_view(const Message& m) {
  KumaEvent event;
  set_if(event.fields, "DeviceProcessName", m.app_name);
  set_if(event.fields, "DeviceHostName", m.hostname);
  set_if(event.fields, "DeviceReceiptTime", m.timestamp);
  set_if(event.fields, "Message", m.msg);  // msg never holds the BOM
  if (m.severity) event.fields["Severity"] = std::to_string(*m.severity);
  if (m.facility) event.extra["facility"] = std::to_string(*m.facility);
  set_if(event.extra, "procid", m.procid);
  set_if(event.extra, "msgid", m.msgid);
  for (const Element& element : m.sd) {
    const std::string prefix = "sd." + std::string(element.id) + ".";
    for (const Param& p : m.params_of(element)) event.extra[prefix + std::string(p.name)] = param_value(p);
  }
  for (const Param& p : m.labels) event.extra["label." + std::string(p.name)] = param_value(p);
  return event;
}

void add_lints(const Message& m, Lints& out) {
  if (m.used(Leniency::secfrac_over_6)) out.push_back({LintId::syslog_secfrac_over_6, {}});
  for (std::size_t i = 0; i < kReasonCount; ++i) {
    const auto reason = static_cast<Reason>(i);
    if (m.has(reason)) out.push_back({LintId::syslog_not_rfc5424, std::string(reason_code(reason))});
  }
  if (!m.used(Leniency::labels_between_app_and_procid)) return;
  std::string names;
  for (const Param& p : m.labels) names.append(names.empty() ? "" : ",").append(p.name);
  out.push_back({LintId::syslog_labels_between_app_and_procid, std::move(names)});
}

}  // namespace kumasim::formats::syslog
