// Per-event outcomes of one run (dkp-log-shipper.md §12): every line read is
// sent, or counted under the reason it was not. Printed on exit and written
// as JSON for scenario runners.
#pragma once

#include "shipper/delivery/delivery.h"
#include "shipper/source/file_source.h"
#include "shipper/pipeline/pipeline.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace kumasim::shipper {

struct DestinationTally {
  std::string name, description;  // "TCP 127.0.0.1:5514, CEF"
  std::array<std::uint64_t, 6> dropped{};  // by Drop
  std::uint64_t passed_unmodified = 0;
  const Delivery* delivery = nullptr;

  void count(Drop drop) { ++dropped[static_cast<std::size_t>(drop)]; }
};

struct Accounting {
  std::uint64_t read = 0, dropped_filter = 0, read_errors = 0;
  // Lines the checkpoint does not cover when the run ends: with --data-dir they
  // are read again after a restart. Some of them may have been sent or dropped
  // already; they are behind one that was not.
  std::uint64_t behind_checkpoint = 0;
  long peak_rss_kib = 0;
  FileSourceCounters files;  // summed over sources at the end
  std::vector<DestinationTally> destinations;

  nlohmann::json to_json() const;
  std::string to_text() const;
};

}  // namespace kumasim::shipper
