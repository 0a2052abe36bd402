// `kumasim serve`: runs a mock KUMA collector until SIGINT or SIGTERM
// (docs/serve.md).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>

namespace kumasim::cli {

struct ServeOptions;
std::shared_ptr<ServeOptions> add_serve_command(CLI::App& app);
bool serve_selected(const ServeOptions& options);
// Exit status: 0 after a signal, 1 when a listener cannot start, 2 on a configuration error.
int run_serve(const ServeOptions& options);

}  // namespace kumasim::cli
