// `kumasim-shipper run`: DKP log-shipper on one node. Reads the sources'
// files, runs each line through the pipeline, feeds each destination's
// delivery, keeps checkpoints of what was delivered, and accounts for every line.
#pragma once

#include "replay/pacer.h"
#include "shipper/pipeline/clock.h"
#include "shipper/pipeline/pipeline.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace kumasim::shipper {

struct RunOptions {
  std::vector<std::string> manifests;
  std::string root, data_dir, summary_file;
  bool once = false, to_stdout = false, flush_partial = false;
  PipelineSettings settings;
  Clock clock;
  TimeZone zone;
  replay::Pacer pacer;
  std::chrono::milliseconds poll_interval{50};
  std::chrono::milliseconds shutdown_timeout{5000};
};

// Exit status: 0 done (or stopped by SIGINT/SIGTERM), 2 invalid manifests,
// 1 a destination could not be started.
int run(RunOptions options);

}  // namespace kumasim::shipper
