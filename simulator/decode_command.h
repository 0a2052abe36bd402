// `kumasim decode`: frames its input, normalizes every frame, and prints one
// JSON object per frame (docs/decode.md).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>

namespace kumasim::cli {

// Adds the subcommand to `app`; the returned flag is set after parsing when
// the subcommand was chosen, and run_decode() then does the work.
struct DecodeOptions;
std::shared_ptr<DecodeOptions> add_decode_command(CLI::App& app);
bool decode_selected(const DecodeOptions& options);
// Exit status: 0 every frame decoded, 1 some frame failed, 2 an input could not be read.
int run_decode(const DecodeOptions& options);

}  // namespace kumasim::cli
