// JSON: the envelope decoder and the normalizer on arbitrary bytes, and the
// encoder's output must parse back to the same value.
#include "formats/json.h"
#include "formats/normalizer.h"

#include <cstdlib>

using namespace kumasim::formats;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static json::EnvelopeDecoder decoder;
  json::Envelope envelope;
  (void)decoder.decode(input, envelope);

  static Normalizer normalizer;
  StreamState state;
  (void)normalizer.normalize(input, state);

  const auto value = nlohmann::json::parse(input, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return 0;
  std::string encoded;
  json::encode(value, encoded);
  const auto again = nlohmann::json::parse(encoded, nullptr, false);
  if (again.is_discarded()) std::abort();
  std::string twice;
  json::encode(again, twice);
  if (twice != encoded) std::abort();
  return 0;
}
