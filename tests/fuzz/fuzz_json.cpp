// JSON and the normalizer: the envelope decoder and every codec of the
// normalizer on arbitrary bytes (verdict-only and full paths agreeing), and
// the encoder's output must parse back to the same value.
#include "formats/json.h"
#include "formats/normalizer.h"

#include <cstdlib>

using namespace kumasim::formats;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static json::EnvelopeDecoder decoder;
  json::Envelope envelope;
  (void)decoder.decode(input, envelope);

  // The receiver's verdict-only path must agree with the full one, for every codec.
  static Normalizer normalizers[] = {Normalizer({Codec::automatic, true, {}}), Normalizer({Codec::syslog, true, {}}),
                                     Normalizer({Codec::rfc5424, false, {}}), Normalizer({Codec::syslog_cef, true, {}})};
  for (auto& normalizer : normalizers) {
    StreamState full_state, verdict_state;
    const auto full = normalizer.normalize(input, full_state);
    const auto verdict = normalizer.normalize(input, verdict_state, Normalizer::Detail::verdict);
    if (full.ok() != verdict.ok() || full.format != verdict.format || full.lints != verdict.lints) std::abort();
  }

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
