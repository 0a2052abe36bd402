// The framer must report the same frames however the stream is cut into reads,
// and must account for every byte.
#include "formats/framing.h"
#include "support/frames.h"

#include <cstdlib>
#include <string>
#include <vector>

using namespace kumasim::formats;

namespace {

// Cut positions from the fuzzer's bytes: reads of 1 to 17 bytes.
std::vector<std::size_t> cuts_from(std::string_view bytes, std::size_t length) {
  std::vector<std::size_t> cuts;
  for (std::size_t at = 0, i = 0; !bytes.empty();) {
    at += 1 + static_cast<unsigned char>(bytes[i++ % bytes.size()]) % 17;
    if (at >= length) break;
    cuts.push_back(at);
  }
  return cuts;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  FramingConfig config;
  config.mode = static_cast<FramingMode>(data[0] % 3);
  config.delimiter = "\n\t\0"[data[1] % 3];
  config.max_frame_size = 1 + data[2] % 64;
  const std::string_view cuts = input.substr(3, 8);
  const std::string_view stream = input.substr(3);

  const auto whole = kumasim::testing::frame_stream(config, stream);
  if (kumasim::testing::frame_stream(config, stream, cuts_from(cuts, stream.size())) != whole) std::abort();
  // Every byte is in one frame: payload, its delimiter or MSG-LEN prefix.
  std::uint64_t next = 0;
  for (const auto& f : whole) {
    if (f.offset != next) std::abort();
    if (f.bytes.size() > config.max_frame_size || f.bytes.size() > f.size) std::abort();
    if (f.counted && f.unterminated) {
      next = stream.size();  // MSG-LEN is no longer known; this must be the last frame
    } else {
      next = f.offset + f.size + (f.unterminated ? 0 : 1);
      if (f.counted) next += std::to_string(f.size).size();
    }
  }
  if (next != stream.size()) std::abort();
  return 0;
}
