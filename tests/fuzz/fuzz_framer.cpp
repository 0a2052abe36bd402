// The framer must report the same frames however the stream is cut into reads,
// and must account for every byte.
#include "formats/framing.h"

#include <cstdlib>
#include <string>
#include <vector>

using namespace kumasim::formats;

namespace {

struct Got {
  std::string bytes;
  FrameStatus status;
  std::uint64_t offset, size;
  bool counted, unterminated;
  bool operator==(const Got&) const = default;
};

std::vector<Got> run(const FramingConfig& config, std::string_view stream, std::string_view cuts) {
  Framer framer(config);
  std::vector<Got> out;
  auto sink = [&](const Frame& f) {
    out.push_back({std::string(f.bytes), f.status, f.offset, f.size, f.octet_counted, f.unterminated});
  };
  std::size_t cut = 0;
  while (!stream.empty()) {
    const std::size_t n = cuts.empty() ? stream.size() : 1 + static_cast<unsigned char>(cuts[cut++ % cuts.size()]) % 17;
    framer.feed(stream.substr(0, n), sink);
    stream.remove_prefix(std::min(n, stream.size()));
  }
  framer.finish(sink);
  return out;
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

  const auto whole = run(config, stream, {});
  if (run(config, stream, cuts) != whole) std::abort();
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
