// `kumasim pki DIR`: writes a test CA, a server certificate and a client
// certificate with their keys into DIR, for the TLS listener and its clients.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>

namespace kumasim::cli {

// Adds the subcommand to `app`; once parsed, pki_selected() tells whether it
// was chosen and run_pki() does the work.
struct PkiOptions;
std::shared_ptr<PkiOptions> add_pki_command(CLI::App& app);
bool pki_selected(const PkiOptions& options);
// Exit status: 0 the six files were written, 1 they were not (a file exists
// without --force, or the directory or OpenSSL failed; stderr says which).
int run_pki(const PkiOptions& options);

}  // namespace kumasim::cli
