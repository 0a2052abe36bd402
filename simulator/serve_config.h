// The YAML configuration of `kumasim serve --config FILE` (docs/serve.md):
// the same settings as the command line, with listeners either as URLs or as
// maps of the URL's keys. Errors name the file, the place and the rule.
#pragma once

#include "simulator/listener_config.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace kumasim::sim {

struct ServeFileConfig {
  std::vector<ListenerConfig> listeners;
  std::optional<std::string> api, api_token, capture;
  std::optional<std::uint64_t> max_store;
  std::optional<unsigned> io_threads;
};

std::variant<ServeFileConfig, std::string> load_serve_config(const std::string& path);

}  // namespace kumasim::sim
