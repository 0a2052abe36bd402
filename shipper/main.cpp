// kumasim-shipper: DKP log-shipper reproduced from the same manifests.
#include "shipper/commands.h"

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"kumasim-shipper: DKP log-shipper reproduced from ClusterLogDestination/ClusterLoggingConfig manifests"};
  app.set_version_flag("--version", "kumasim-shipper " KUMASIM_VERSION);
  app.require_subcommand(0, 1);
  auto validate = kumasim::shipper::add_validate_command(app);
  auto run = kumasim::shipper::add_run_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : 2;  // usage errors exit 2; --help and --version exit 0
  }
  if (kumasim::shipper::selected(*validate)) return kumasim::shipper::run_validate(*validate);
  if (kumasim::shipper::selected(*run)) return kumasim::shipper::run_run(*run);
  std::cout << app.help();
  return 2;
}
