#include "simulator/pki_command.h"

#include "simulator/pki.h"

#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace kumasim::cli {

struct PkiOptions {
  CLI::App* command = nullptr;
  std::string dir;
  pki::Options pki;
  bool force = false;
};

namespace {

// What was made and how to use it: the names a client may connect to, and the
// files for the listener's two TLS modes.
void print_summary(const PkiOptions& options) {
  const auto file = [&](std::string_view name) { return (std::filesystem::path(options.dir) / name).string(); };
  std::cout << "wrote the kumasim test CA, a server and a client certificate to " << options.dir << "\n";
  std::cout << "server certificate names:";
  for (const auto& name : pki::server_names(options.pki.names)) std::cout << ' ' << name;
  std::cout << "\nvalid for " << options.pki.days << " days\n";
  std::cout << "server (encrypt and verify): " << file(pki::kServerCertFile) << ' ' << file(pki::kServerKeyFile) << "\n";
  std::cout << "CA (verify mode, and clients' caFile): " << file(pki::kCaCertFile) << "\n";
  std::cout << "client (verify mode): " << file(pki::kClientCertFile) << ' ' << file(pki::kClientKeyFile) << "\n";
}

}  // namespace

std::shared_ptr<PkiOptions> add_pki_command(CLI::App& app) {
  auto options = std::make_shared<PkiOptions>();
  auto* cmd = app.add_subcommand("pki", "Create a test CA, a server certificate and a client certificate (PEM) in DIR");
  options->command = cmd;
  cmd->add_option("dir", options->dir, "Directory for ca.pem, server.pem, client.pem and their -key.pem files (created if missing)")
      ->required();
  // One value per occurrence, so that the options may come before DIR.
  cmd->add_option("--name", options->pki.names, "Another DNS name or IP address for the server certificate (repeatable)")
      ->check(CLI::Validator(
          [](const std::string& value) {
            const auto error = pki::check_name(value);
            return error ? *error : std::string();
          },
          "NAME"))
      ->allow_extra_args(false);
  cmd->add_option("--days", options->pki.days, "Validity in days from now")
      ->check(CLI::Range(1, pki::kMaxDays))
      ->capture_default_str();
  cmd->add_flag("--force", options->force, "Replace existing files");
  return options;
}

bool pki_selected(const PkiOptions& options) { return options.command->parsed(); }

int run_pki(const PkiOptions& options) {
  pki::Bundle bundle;
  if (auto error = pki::create(options.dir, options.pki, options.force, bundle)) {
    std::cerr << "kumasim pki: " << *error << "\n";
    return 1;
  }
  print_summary(options);
  return 0;
}

}  // namespace kumasim::cli
