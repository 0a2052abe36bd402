// How `kumasim decode` writes one frame's result: a JSON line for programs,
// or a short text block for people.
#pragma once

#include "formats/normalizer.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace kumasim::cli {

struct FrameReport {
  std::string_view input;  // the file name, "-" for stdin
  std::uint64_t offset;    // the frame's byte offset in the input
  const formats::Normalized& result;
};

// {"ok":…,"format":…,"input":…,"offset":…,"error":…,"fields":…,"audit":…,"kuma":…,"lints":[…]} and LF.
void append_json_line(const FrameReport& report, std::string& out);

// input@offset, format and verdict; the KUMA fields, Extra (long values cut) and the lints.
void append_text(const FrameReport& report, std::string& out);

}  // namespace kumasim::cli
