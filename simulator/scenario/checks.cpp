#include "simulator/scenario/checks.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace kumasim::scenario {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxFailing = 10;
constexpr std::size_t kMaxShown = 1024;
constexpr std::size_t kMaxCarried = 64 * 1024;  // kept to diff against the expected line at the end

// Where two texts first differ, with some context of each, for a failure report.
std::string difference(const std::string& expected, const std::string& got) {
  std::size_t at = 0;
  while (at < expected.size() && at < got.size() && expected[at] == got[at]) ++at;
  const std::size_t from = at > 24 ? at - 24 : 0;
  const auto excerpt = [&](const std::string& s) {
    return json(s.substr(std::min(from, s.size()), 64)).dump(-1, ' ', false, json::error_handler_t::replace);
  };
  return "first difference at byte " + std::to_string(at) + ": expected ..." + excerpt(expected) + "... got ..." +
         excerpt(got) + "... (" + std::to_string(expected.size()) + " and " + std::to_string(got.size()) + " bytes)";
}

bool on_listener(const json& event, const std::string& listener) {
  return listener.empty() || event.value("listener", "") == listener;
}

std::string shown_field(const json& event, const std::string& field) {
  const auto it = event.find(field);
  if (it == event.end() || !it->is_string()) return "";
  const auto& s = it->get_ref<const std::string&>();
  return s.size() <= kMaxShown ? s : s.substr(0, kMaxShown) + "… (" + std::to_string(s.size()) + " bytes)";
}

}  // namespace

CarriedLine::CarriedLine(const std::string& content) {
  if (!content.empty()) {
    paths_.emplace_back(content);
  } else {
    paths_.emplace_back("kuma.Extra.message");
    paths_.emplace_back("kuma.Message");  // Syslog
  }
}

const std::string* CarriedLine::text(const json& event) const {
  for (const auto& path : paths_) {
    const json* found = path.find(event);
    if (found && found->is_string()) return &found->get_ref<const std::string&>();
  }
  return nullptr;
}

std::optional<std::uint64_t> CarriedLine::hash(const json& event) const {
  const std::string* line = text(event);
  return line ? std::optional<std::uint64_t>(text_hash(*line)) : std::nullopt;
}

DeliveredCheck::DeliveredCheck(DeliveredSpec spec, const InputCatalog& catalog, std::size_t selector)
    : spec_(std::move(spec)), catalog_(catalog), carried_(spec_.content), selector_(selector), copies_(catalog.lines(), 0) {}

json* DeliveredCheck::sample(const json& event, const std::string& reason) {
  if (failing_.size() >= kMaxFailing) return nullptr;
  return &failing_.emplace_back(json{{"id", event.value("id", 0)}, {"reason", reason}, {"raw", shown_field(event, "raw")}});
}

void DeliveredCheck::observe(const json& event) {
  if (!on_listener(event, spec_.listener)) return;
  const auto hash = carried_.hash(event);
  const auto lines = hash ? catalog_.lines_with(*hash) : std::vector<std::uint32_t>{};
  if (lines.empty()) {
    ++foreign_;
    auto* shown = sample(event, hash ? "its text is no input line (altered on the way?)" : "it carries no input line (not decoded?)");
    if (shown && hash) (*shown)["carried"] = carried_.text(event)->substr(0, kMaxCarried);
    return;
  }
  if (!catalog_.selected(selector_, lines.front())) {  // a line the check does not select
    if (spec_.exclusive) {
      ++unselected_;
      sample(event, "input line " + std::to_string(lines.front() + 1) + " arrived, but the check does not select it");
    }
    return;
  }
  // Identical lines (a repeated file) are matched to the first copy still missing.
  const auto missing = std::find_if(lines.begin(), lines.end(), [&](std::uint32_t l) { return copies_[l] == 0; });
  if (missing == lines.end()) {
    auto& copies = copies_[lines.back()];
    copies = static_cast<std::uint8_t>(std::min(255, copies + 1));
    if (++duplicates_ > spec_.duplicates) sample(event, "a duplicate of input line " + std::to_string(lines.back() + 1));
    return;
  }
  copies_[*missing] = 1;
  ++arrived_;
  if (spec_.in_order && static_cast<std::int64_t>(*missing) < last_line_) {
    ++out_of_order_;
    sample(event, "input line " + std::to_string(*missing + 1) + " arrived after line " + std::to_string(last_line_ + 1));
  }
  last_line_ = std::max(last_line_, static_cast<std::int64_t>(*missing));
}

bool DeliveredCheck::failed() const {
  return duplicates_ > spec_.duplicates || out_of_order_ > 0 || foreign_ > 0 || unselected_ > 0;
}

json DeliveredCheck::result() const {
  const auto selected = catalog_.selected_count(selector_);
  std::string message;
  const auto add = [&](const std::string& part) { message += (message.empty() ? "" : "; ") + part; };
  std::optional<std::uint32_t> first_missing;
  for (std::uint32_t l = 0; l < copies_.size() && !first_missing; ++l) {
    if (catalog_.selected(selector_, l) && copies_[l] == 0) first_missing = l;
  }
  auto failing = failing_;
  if (first_missing) {
    // An altered line is most likely the first one missing: show how they differ.
    const std::string expected = catalog_.text_of(*first_missing);
    for (auto& f : failing) {
      if (!f.contains("carried")) continue;
      f["diff"] = "against input line " + std::to_string(*first_missing + 1) + ", " +
                  difference(expected, f["carried"].get<std::string>());
      f.erase("carried");
    }
  }
  if (arrived_ < selected) {
    const std::string first = std::to_string(*first_missing + 1);
    add(std::to_string(selected - arrived_) + " of " + std::to_string(selected) + " selected lines missing, first line " + first);
  }
  if (duplicates_ > spec_.duplicates) {
    add(std::to_string(duplicates_) + " duplicates, budget " + std::to_string(spec_.duplicates));
  }
  if (out_of_order_) add(std::to_string(out_of_order_) + " lines out of order");
  if (foreign_) add(std::to_string(foreign_) + " events carry no input line intact");
  if (unselected_) add(std::to_string(unselected_) + " events carry lines the check does not select");
  json out = {{"pass", message.empty()},      {"message", message},      {"selected", selected},
              {"arrived", arrived_},          {"duplicates", duplicates_}, {"out_of_order", out_of_order_},
              {"foreign", foreign_},          {"unselected", unselected_}, {"failing", failing}};
  out["name"] = spec_.name;
  return out;
}

LatencyCheck::LatencyCheck(LatencySpec spec, const InputCatalog& catalog, const InputWriter& writer)
    : spec_(std::move(spec)), catalog_(catalog), carried_(spec_.content), writer_(writer), seen_(catalog.lines(), false) {}

void LatencyCheck::observe(const json& event) {
  if (!on_listener(event, spec_.listener)) return;
  const auto hash = carried_.hash(event);
  if (!hash) return;
  for (const auto line : catalog_.lines_with(*hash)) {
    if (seen_[line]) continue;
    const auto written = writer_.written_ns(line);
    if (written == 0) return;  // not written by the runner: some other copy
    seen_[line] = true;
    latencies_ns_.push_back(std::max<std::int64_t>(0, event.value("received_ns", std::int64_t{0}) - written));
    return;
  }
}

json LatencyCheck::result() const {
  json out = {{"percentile", spec_.percentile}, {"max_ms", spec_.max.count()}, {"samples", latencies_ns_.size()}};
  out["name"] = spec_.name;
  if (latencies_ns_.empty()) {
    out["pass"] = false;
    out["message"] = "no input line arrived: nothing to measure";
    return out;
  }
  auto sorted = latencies_ns_;
  const auto rank = static_cast<std::size_t>(std::ceil(spec_.percentile / 100.0 * static_cast<double>(sorted.size())));
  const auto nth = sorted.begin() + static_cast<std::ptrdiff_t>(std::clamp<std::size_t>(rank, 1, sorted.size()) - 1);
  std::nth_element(sorted.begin(), nth, sorted.end());
  const double measured_ms = static_cast<double>(*nth) / 1e6;
  out["measured_ms"] = measured_ms;
  const bool pass = measured_ms <= static_cast<double>(spec_.max.count());
  out["pass"] = pass;
  char text[160];
  std::snprintf(text, sizeof text, "p%g latency %.1f ms, expected at most %lld ms", spec_.percentile, measured_ms,
                static_cast<long long>(spec_.max.count()));
  out["message"] = pass ? "" : text;
  return out;
}

}  // namespace kumasim::scenario
