// Frames a Framer reports for a stream cut into reads at given positions,
// owned, so that different cuttings of one stream can be compared. Shared by
// the framing tests and the framer's fuzz target.
#pragma once

#include "formats/framing.h"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kumasim::testing {

struct OwnedFrame {
  std::string bytes;
  formats::FrameStatus status;
  std::uint64_t offset, size;
  bool counted, unterminated;
  bool operator==(const OwnedFrame&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const OwnedFrame& f) {
  return os << "{'" << f.bytes << "' " << to_string(f.status) << " @" << f.offset << " size " << f.size
            << (f.counted ? " counted" : "") << (f.unterminated ? " unterminated" : "") << "}";
}

// Feeds `stream` in reads cut at the ascending positions `cuts`, then finishes it.
inline std::vector<OwnedFrame> frame_stream(const formats::FramingConfig& config, std::string_view stream,
                                            const std::vector<std::size_t>& cuts = {}) {
  formats::Framer framer(config);
  std::vector<OwnedFrame> out;
  auto sink = [&](const formats::Frame& f) {
    out.push_back({std::string(f.bytes), f.status, f.offset, f.size, f.octet_counted, f.unterminated});
  };
  std::size_t from = 0;
  for (std::size_t cut : cuts) {
    framer.feed(stream.substr(from, cut - from), sink);
    from = cut;
  }
  framer.feed(stream.substr(from), sink);
  framer.finish(sink);
  return out;
}

}  // namespace kumasim::testing
