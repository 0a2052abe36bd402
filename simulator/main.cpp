// kumasim: a mock KUMA receiver for testing what DKP log-shipper sends.
#include "simulator/decode_command.h"
#include "simulator/pki_command.h"
#include "simulator/run_command.h"
#include "simulator/serve_command.h"

#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"kumasim: a KUMA endpoint simulator"};
  app.set_version_flag("--version", "kumasim " KUMASIM_VERSION);
  app.require_subcommand(0, 1);
  auto decode = kumasim::cli::add_decode_command(app);
  auto serve = kumasim::cli::add_serve_command(app);
  auto pki = kumasim::cli::add_pki_command(app);
  auto run = kumasim::cli::add_run_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : 2;  // usage errors exit 2; --help and --version exit 0
  }
  if (kumasim::cli::decode_selected(*decode)) return kumasim::cli::run_decode(*decode);
  if (kumasim::cli::serve_selected(*serve)) return kumasim::cli::run_serve(*serve);
  if (kumasim::cli::pki_selected(*pki)) return kumasim::cli::run_pki(*pki);
  if (kumasim::cli::run_selected(*run)) return kumasim::cli::run_scenarios(*run);
  std::cout << app.help();
  return 2;
}
