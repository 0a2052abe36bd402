#include "shipper/pipeline/topic_template.h"

#include "formats/event.h"
#include "formats/json.h"

#include <nlohmann/json.hpp>

#include <ctime>

namespace kumasim::shipper {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string strftime_utc(const std::string& format, std::int64_t now_ns) {
  const std::time_t seconds = static_cast<std::time_t>(now_ns / 1'000'000'000);
  std::tm utc{};
  ::gmtime_r(&seconds, &utc);
  std::string out(format.size() * 4 + 64, '\0');
  const std::size_t n = std::strftime(out.data(), out.size(), format.c_str(), &utc);
  out.resize(n);
  return out;
}

}  // namespace

TopicTemplate::TopicTemplate(std::string_view text) {
  while (!text.empty()) {
    const auto open = text.find("{{");
    const auto close = open == std::string_view::npos ? open : text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      parts_.push_back({std::string(text), false});
      break;
    }
    if (open > 0) parts_.push_back({std::string(text.substr(0, open)), false});
    parts_.push_back({std::string(trim(text.substr(open + 2, close - open - 2))), true});
    text.remove_prefix(close + 2);
  }
  for (const Part& part : parts_) has_strftime_ |= !part.field && part.text.find('%') != std::string::npos;
}

std::optional<std::string> TopicTemplate::render(const nlohmann::json& event, std::int64_t now_ns) const {
  std::string out;
  for (const Part& part : parts_) {
    if (!part.field) {
      out += has_strftime_ ? strftime_utc(part.text, now_ns) : part.text;
      continue;
    }
    const nlohmann::json* value = formats::event::find(event, part.text);
    if (!value) return std::nullopt;
    out += value_bytes(*value);
  }
  return out;
}

std::string value_bytes(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::string: return value.get_ref<const std::string&>();
    case nlohmann::json::value_t::number_float: return formats::event::rust_float(value.get<double>());
    case nlohmann::json::value_t::object:
    case nlohmann::json::value_t::array: {
      std::string out;
      formats::json::encode(value, out);
      return out;
    }
    default: return value.dump();  // integers, booleans, null
  }
}

}  // namespace kumasim::shipper
