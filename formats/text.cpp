#include "formats/text.h"

#include "formats/event.h"
#include "formats/json.h"

#include <nlohmann/json.hpp>

namespace kumasim::formats::text {

void encode(const nlohmann::json& event, std::string& out) {
  out.clear();
  const nlohmann::json* message = event::find(event, "message");
  if (!message) return;
  switch (message->type()) {
    case nlohmann::json::value_t::string: out = message->get_ref<const std::string&>(); return;
    case nlohmann::json::value_t::boolean: out = message->get<bool>() ? "true" : "false"; return;
    case nlohmann::json::value_t::number_integer: out = std::to_string(message->get<std::int64_t>()); return;
    case nlohmann::json::value_t::number_unsigned: out = std::to_string(message->get<std::uint64_t>()); return;
    case nlohmann::json::value_t::number_float: out = event::rust_float(message->get<double>()); return;
    case nlohmann::json::value_t::null: return;
    default: json::encode(*message, out); return;
  }
}

}  // namespace kumasim::formats::text
