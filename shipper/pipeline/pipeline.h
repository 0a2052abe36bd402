// DKP log-shipper's event pipeline on one node (dkp-log-shipper.md §6): the
// per-source steps that turn a line into an event and filter it, and the
// per-destination steps that limit, label, prepare and encode its own copy.
#pragma once

#include "formats/cef.h"
#include "shipper/pipeline/clock.h"
#include "shipper/delivery/delivery.h"
#include "shipper/pipeline/extra_labels.h"
#include "shipper/pipeline/filter.h"
#include "shipper/manifest/manifest.h"
#include "shipper/pipeline/rate_limiter.h"
#include "shipper/pipeline/topic_template.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace kumasim::shipper {

enum class Profile { gen_b, gen_c };
std::optional<Profile> parse_profile(std::string_view name);
std::string_view profile_name(Profile profile);

// What DKP takes from the node and its pod (§1).
struct NodeIdentity {
  std::string node_name, host_ip, pod_name;
};

struct PipelineSettings {
  Profile profile = Profile::gen_c;
  NodeIdentity node;
};

// Steps 1-5 of §6.1 for one ClusterLoggingConfig.
class SourcePipeline {
 public:
  static std::variant<SourcePipeline, std::string> compile(const Source& source, const PipelineSettings& settings);

  // Builds the event for `line` read from `path` at `read_ns` (zone offset
  // `utc_offset`) into `event`; false when a filter drops it.
  bool build(std::string_view line, const std::string& path, std::int64_t read_ns, int utc_offset,
             nlohmann::json& event) const;

 private:
  PipelineSettings settings_;
  std::vector<Condition> label_filter_, log_filter_;
};

// Why a destination's copy of an event did not reach its buffer.
enum class Drop { rate_limit, cef_severity, cef_name, gelf_host, gelf_timestamp, kafka_topic };
std::string_view drop_name(Drop drop);

// Steps 7-11 of §6.1 for one ClusterLogDestination.
class DestinationPipeline {
 public:
  static std::variant<DestinationPipeline, std::string> compile(const Destination& destination,
                                                                const PipelineSettings& settings);

  struct Result {
    std::optional<Drop> drop;
    bool passed_unmodified = false;  // the Syslog program failed; the raw message goes out (§10.4)
  };
  // Processes the destination's own copy of the event into `out` (payload,
  // and for Kafka topic and key).
  Result process(nlohmann::json event, std::int64_t now_ns, Message& out);

 private:
  std::optional<Drop> encode(nlohmann::json& event, std::int64_t now_ns, Message& out, bool& passed_unmodified);

  PipelineSettings settings_;
  Codec codec_ = Codec::json;
  std::optional<RateLimiter> rate_limit_;
  std::optional<ExtraLabels> extra_labels_;
  formats::cef::EncoderConfig cef_;
  std::optional<TopicTemplate> topic_;
  std::optional<std::string> key_field_;
};

}  // namespace kumasim::shipper
