// The CEF decoder on arbitrary bytes: no crash, no out-of-bounds read (ASan),
// and the views it returns lie inside the input.
#include "formats/cef.h"

#include <nlohmann/json.hpp>

#include <cstdlib>

using namespace kumasim::formats;

namespace {
bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  cef::Event event;
  const bool ok = !cef::decode(input, event);
  for (const auto& ext : event.extensions) {
    if (!inside(ext.key, input) || !inside(ext.raw_value, input)) std::abort();
  }
  Lints lints;
  cef::add_lints(event, lints);
  if (ok) {
    (void)cef::fields_json(event).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    (void)cef::kuma_view(event);
  }
  return 0;
}
