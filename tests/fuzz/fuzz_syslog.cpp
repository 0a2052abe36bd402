// Syslog parsers on arbitrary bytes: no crash, no out-of-bounds read (ASan),
// and whatever strict RFC 5424 accepts, the lenient KUMA view accepts too.
#include "formats/syslog.h"

#include <nlohmann/json.hpp>

#include <cstdlib>

using namespace kumasim::formats;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  syslog::Message strict, lenient, bsd;
  const bool strict_ok = !syslog::parse_rfc5424(input, syslog::Mode::strict, strict);
  const bool lenient_ok = !syslog::parse(input, syslog::Mode::lenient, lenient);
  if (strict_ok && !lenient_ok) std::abort();
  (void)syslog::parse_rfc3164(input, bsd);
  Lints lints;
  syslog::add_lints(lenient, lints);
  if (lenient_ok) {
    (void)syslog::fields_json(lenient).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    (void)syslog::kuma_view(lenient);
  }
  return 0;
}
