#include "simulator/scenario/report.h"

#include <algorithm>
#include <cstdio>

namespace kumasim::scenario {
namespace {

std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", seconds);
  return text;
}

std::string xml_escaped(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        // XML 1.0 allows no control characters but tab, LF and CR.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') out += "?";
        else out += c;
    }
  }
  return out;
}

std::string one_line(std::string text, std::size_t max) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text.size() <= max ? text : text.substr(0, max - 3) + "...";
}

}  // namespace

std::string result_table(const std::vector<ScenarioResult>& results, double seconds, bool colour) {
  std::size_t width = 8;
  for (const auto& r : results) width = std::max(width, r.name.size());
  const char* green = colour ? "\033[32m" : "";
  const char* red = colour ? "\033[31m" : "";
  const char* plain = colour ? "\033[0m" : "";
  std::string out;
  std::size_t passed = 0;
  for (const auto& r : results) {
    passed += r.pass;
    char row[64];
    std::snprintf(row, sizeof row, "%8ss  ", seconds_text(r.seconds).c_str());
    out += std::string(r.pass ? green : red) + (r.pass ? "PASS" : "FAIL") + plain + "  " + r.name +
           std::string(width - r.name.size() + 2, ' ') + row;
    if (!r.failures.empty()) out += one_line(r.failures.front(), 100);
    out += "\n";
  }
  out += std::to_string(passed) + " of " + std::to_string(results.size()) + " scenarios passed in " +
         seconds_text(seconds) + " s\n";
  for (const auto& r : results) {
    if (r.pass) continue;
    out += "\n" + r.name + " (" + r.path + "):\n";
    for (const auto& f : r.failures) out += "  - " + f + "\n";
    if (!r.run_dir.empty()) out += "  artefacts: " + r.run_dir + "\n";
  }
  return out;
}

std::string junit_xml(const std::vector<ScenarioResult>& results, double seconds) {
  const auto failed = std::count_if(results.begin(), results.end(), [](const auto& r) { return !r.pass; });
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<testsuites name=\"kumasim\" tests=\"" + std::to_string(results.size()) + "\" failures=\"" +
         std::to_string(failed) + "\" time=\"" + seconds_text(seconds) + "\">\n";
  out += "  <testsuite name=\"scenarios\" tests=\"" + std::to_string(results.size()) + "\" failures=\"" +
         std::to_string(failed) + "\" errors=\"0\" time=\"" + seconds_text(seconds) + "\">\n";
  for (const auto& r : results) {
    out += "    <testcase classname=\"scenarios\" name=\"" + xml_escaped(r.name) + "\" file=\"" + xml_escaped(r.path) +
           "\" time=\"" + seconds_text(r.seconds) + "\"";
    std::string body;
    if (!r.pass) {
      std::string all;
      for (const auto& f : r.failures) all += f + "\n";
      body += "      <failure message=\"" + xml_escaped(one_line(r.failures.empty() ? "failed" : r.failures.front(), 500)) +
              "\">" + xml_escaped(all) + "</failure>\n";
    }
    if (r.details.contains("timeline")) {
      std::string timeline;
      for (const auto& line : r.details["timeline"]) timeline += line.get<std::string>() + "\n";
      if (!r.run_dir.empty()) timeline += "artefacts: " + r.run_dir + "\n";
      body += "      <system-out>" + xml_escaped(timeline) + "</system-out>\n";
    }
    out += body.empty() ? "/>\n" : ">\n" + body + "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

nlohmann::json results_json(const std::vector<ScenarioResult>& results, double seconds) {
  nlohmann::json list = nlohmann::json::array();
  bool pass = true;
  for (const auto& r : results) {
    pass = pass && r.pass;
    list.push_back({{"name", r.name}, {"path", r.path}, {"pass", r.pass}, {"seconds", r.seconds},
                    {"failures", r.failures}, {"run_dir", r.run_dir.empty() ? nlohmann::json() : nlohmann::json(r.run_dir)},
                    {"details", r.details}});
  }
  return {{"pass", pass}, {"seconds", seconds}, {"scenarios", std::move(list)}};
}

}  // namespace kumasim::scenario
