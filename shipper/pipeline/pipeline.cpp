#include "shipper/pipeline/pipeline.h"

#include "formats/event.h"
#include "formats/gelf.h"
#include "formats/json.h"
#include "formats/syslog.h"
#include "formats/text.h"
#include "formats/timestamp.h"

namespace kumasim::shipper {
namespace {

const FieldPath kParsedData = {PathSegment{"parsed_data"}};

std::variant<std::vector<Condition>, std::string> compile_all(const std::vector<FilterSpec>& specs,
                                                              const FieldPath& base, std::string_view where) {
  std::vector<Condition> conditions;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    auto compiled = Condition::compile(specs[i], base);
    if (auto* error = std::get_if<FilterError>(&compiled))
      return std::string(where) + "[" + std::to_string(i) + "]: " + error->code + ": " + error->message;
    conditions.push_back(std::move(std::get<Condition>(compiled)));
  }
  return conditions;
}

std::vector<std::string> label_keys(const Destination& destination) {
  std::vector<std::string> keys;
  for (const auto& [key, value] : destination.extra_labels) keys.push_back(key);
  return keys;
}

}  // namespace

std::optional<Profile> parse_profile(std::string_view name) {
  if (name == "gen-c") return Profile::gen_c;
  if (name == "gen-b") return Profile::gen_b;
  return std::nullopt;
}

std::string_view profile_name(Profile profile) { return profile == Profile::gen_c ? "gen-c" : "gen-b"; }

std::string_view drop_name(Drop drop) {
  switch (drop) {
    case Drop::rate_limit: return "rate_limit";
    case Drop::cef_severity: return "cef_severity_invalid";
    case Drop::cef_name: return "cef_name_too_long";
    case Drop::gelf_host: return "gelf_host_missing";
    case Drop::gelf_timestamp: return "gelf_timestamp_invalid";
    case Drop::kafka_topic: return "kafka_topic_unrenderable";
  }
  return "unknown";
}

// ------------------------------------------------------------------ source

std::variant<SourcePipeline, std::string> SourcePipeline::compile(const Source& source,
                                                                  const PipelineSettings& settings) {
  SourcePipeline pipeline;
  pipeline.settings_ = settings;
  auto label = compile_all(source.label_filter, {}, "labelFilter");
  if (auto* error = std::get_if<std::string>(&label)) return "ClusterLoggingConfig " + source.name + ": " + *error;
  auto log = compile_all(source.log_filter, kParsedData, "logFilter");
  if (auto* error = std::get_if<std::string>(&log)) return "ClusterLoggingConfig " + source.name + ": " + *error;
  pipeline.label_filter_ = std::move(std::get<std::vector<Condition>>(label));
  pipeline.log_filter_ = std::move(std::get<std::vector<Condition>>(log));
  return pipeline;
}

bool SourcePipeline::build(std::string_view line, const std::string& path, std::int64_t read_ns, int utc_offset,
                           nlohmann::json& event) const {
  // gen-b's clean-up deletes `file` and there is no host step, so `host`
  // stays the agent pod's host name (§6.1).
  const bool gen_c = settings_.profile == Profile::gen_c;
  event = nlohmann::json::object();
  if (gen_c) event["file"] = path;
  event["host"] = gen_c ? settings_.node.node_name : settings_.node.pod_name;
  if (gen_c) event["host_ip"] = settings_.node.host_ip;
  event["message"] = std::string(line);
  event["source_type"] = "file";
  event["timestamp"] = formats::format_dkp_timestamp(read_ns, utc_offset);
  if (!keep_all(label_filter_, event)) return false;
  if (log_filter_.empty()) return true;
  event["parsed_data"] = parse_message(event);
  return keep_all(log_filter_, event);
}

// ------------------------------------------------------------- destination

std::variant<DestinationPipeline, std::string> DestinationPipeline::compile(const Destination& destination,
                                                                            const PipelineSettings& settings) {
  const std::string where = "ClusterLogDestination " + destination.name + ": ";
  DestinationPipeline pipeline;
  pipeline.settings_ = settings;
  pipeline.codec_ = destination.codec;
  if (destination.rate_limit) {
    auto limiter = RateLimiter::compile(*destination.rate_limit);
    if (auto* error = std::get_if<FilterError>(&limiter)) return where + "rateLimit: " + error->message;
    pipeline.rate_limit_.emplace(std::move(std::get<RateLimiter>(limiter)));
  }
  if (!destination.extra_labels.empty()) {
    auto labels = ExtraLabels::compile(destination.extra_labels);
    if (auto* error = std::get_if<ExtraLabels::Error>(&labels))
      return where + "extraLabels." + error->key + ": " + error->message;
    pipeline.extra_labels_.emplace(std::move(std::get<ExtraLabels>(labels)));
  }
  if (destination.codec == Codec::cef) {
    pipeline.cef_ = formats::cef::config_for_profile(profile_name(settings.profile), label_keys(destination));
    pipeline.cef_.device_vendor = destination.cef.vendor;
    pipeline.cef_.device_product = destination.cef.product;
    pipeline.cef_.device_version = destination.cef.version;
    if (auto error = formats::cef::config_error(pipeline.cef_)) return where + *error;
  }
  if (const auto* kafka = std::get_if<KafkaSpec>(&destination.transport)) {
    pipeline.topic_.emplace(kafka->topic);
    pipeline.key_field_ = kafka->key_field;
  }
  return pipeline;
}

DestinationPipeline::Result DestinationPipeline::process(nlohmann::json event, std::int64_t now_ns, Message& out) {
  Result result;
  if (rate_limit_ && !rate_limit_->admit(event, now_ns)) {
    result.drop = Drop::rate_limit;
    return result;
  }
  if (extra_labels_) extra_labels_->apply(event);
  result.drop = encode(event, now_ns, out, result.passed_unmodified);
  return result;
}

std::optional<Drop> DestinationPipeline::encode(nlohmann::json& event, std::int64_t now_ns, Message& out,
                                                bool& passed_unmodified) {
  // Step 9 (the codec's program) sees parsed_data; step 10 removes it before encoding.
  switch (codec_) {
    case Codec::syslog: {
      auto line = formats::syslog::encode_dkp(event, settings_.node.node_name);
      passed_unmodified = line.fell_back;
      out.payload = std::move(line.line);
      return std::nullopt;
    }
    case Codec::gelf: {
      if (auto error = formats::gelf::encode(event, out.payload))
        return *error == formats::gelf::EncodeError::host_missing ? Drop::gelf_host : Drop::gelf_timestamp;
      return std::nullopt;
    }
    case Codec::cef: {
      formats::cef::apply_cef_step(event);
      event.erase("parsed_data");
      if (auto error = formats::cef::encode(event, cef_, out.payload))
        return *error == formats::cef::EncodeError::severity_invalid ? Drop::cef_severity : Drop::cef_name;
      break;
    }
    case Codec::json:
      event.erase("parsed_data");
      out.payload.clear();
      formats::json::encode(event, out.payload);
      break;
    case Codec::text:
      event.erase("parsed_data");
      formats::text::encode(event, out.payload);
      break;
  }
  if (topic_) {
    auto topic = topic_->render(event, now_ns);
    if (!topic) return Drop::kafka_topic;
    out.topic = std::move(*topic);
    out.key.reset();
    if (key_field_) {
      if (const auto* key = formats::event::find(event, *key_field_); key && !key->is_null()) out.key = value_bytes(*key);
    }
  }
  return std::nullopt;
}

}  // namespace kumasim::shipper
