#include "shipper/accounting.h"

#include <nlohmann/json.hpp>

namespace kumasim::shipper {
namespace {

constexpr std::array kDrops = {Drop::rate_limit, Drop::cef_severity, Drop::cef_name,
                               Drop::gelf_host,  Drop::gelf_timestamp, Drop::kafka_topic};

nlohmann::json destination_json(const DestinationTally& d) {
  const DeliveryCounters& c = d.delivery->counters();
  nlohmann::json dropped = {{"buffer_full", c.dropped_buffer_full.load()},
                             {"buffer_error", c.dropped_buffer_error.load()},
                             {"send", c.dropped_send.load()}};
  for (Drop drop : kDrops) dropped[std::string(drop_name(drop))] = d.dropped[static_cast<std::size_t>(drop)];
  return {{"name", d.name},
          {"transport", d.description},
          {"sent", c.sent.load()},
          {"sent_bytes", c.sent_bytes.load()},
          {"retried", c.retried.load()},
          {"blocked_pushes", c.blocked_pushes.load()},
          {"passed_unmodified", d.passed_unmodified},
          {"connects", c.connects.load()},
          {"connect_failures", c.connect_failures.load()},
          {"dropped", std::move(dropped)}};
}

}  // namespace

nlohmann::json Accounting::to_json() const {
  nlohmann::json out = {{"read", read},
                        {"bytes", files.bytes},
                        {"dropped_oversize_line", files.dropped_oversize_line},
                        {"dropped_filter", dropped_filter},
                        {"read_errors", read_errors},
                        {"behind_checkpoint", behind_checkpoint},
                        {"rotations", files.rotations},
                        {"peak_rss_kib", peak_rss_kib},
                        {"destinations", nlohmann::json::array()}};
  for (const auto& d : destinations) out["destinations"].push_back(destination_json(d));
  return out;
}

std::string Accounting::to_text() const {
  std::string out = "read " + std::to_string(read) + " lines (" + std::to_string(files.bytes) + " bytes), " +
                    std::to_string(files.dropped_oversize_line) + " over the line limit, " +
                    std::to_string(dropped_filter) + " filtered out, " + std::to_string(read_errors) +
                    " read errors, " + std::to_string(behind_checkpoint) + " behind the checkpoint at the end\n";
  for (const auto& d : destinations) {
    const DeliveryCounters& c = d.delivery->counters();
    out += "  " + d.name + " (" + d.description + "): sent " + std::to_string(c.sent.load()) + ", retried " +
           std::to_string(c.retried.load()) + ", dropped: buffer full " + std::to_string(c.dropped_buffer_full.load()) +
           ", buffer error " + std::to_string(c.dropped_buffer_error.load()) + ", send " +
           std::to_string(c.dropped_send.load());
    for (Drop drop : kDrops) {
      if (const auto n = d.dropped[static_cast<std::size_t>(drop)])
        out += ", " + std::string(drop_name(drop)) + " " + std::to_string(n);
    }
    if (d.passed_unmodified) out += "; passed unmodified " + std::to_string(d.passed_unmodified);
    out += "\n";
  }
  return out;
}

}  // namespace kumasim::shipper
