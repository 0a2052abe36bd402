// The pipeline of dkp-log-shipper.md §6 on the worked example of §13: every
// codec's bytes, both profiles, extraLabels, filters, drops, Kafka topic and key.
#include "shipper/pipeline/pipeline.h"
#include "support/dkp_example.h"
#include "support/test_data.h"

#include <gtest/gtest.h>

namespace kumasim::shipper {
namespace {

using testing::kAuditLine;

constexpr std::int64_t kReadNs = 1736925630130512345LL;  // 2025-01-15T07:20:30.130512345Z
constexpr int kZone = 3 * 3600;
const std::string kPath = "/var/log/kube-audit/audit.log";
const std::string kControllerLine =
    R"j({"kind":"Event","verb":"list","userAgent":"kube-controller-manager/v1.29.4 (linux/amd64)"})j";

PipelineSettings settings(Profile profile = Profile::gen_c) {
  return {profile, {"master-0", "10.0.0.5", "log-shipper-agent-7xk2p"}};
}

Destination socket(Codec codec, std::map<std::string, std::string> labels = {}) {
  Destination d;
  d.name = "kuma";
  d.transport = SocketSpec{"127.0.0.1:5514", "127.0.0.1", 5514, SocketSpec::Mode::tcp};
  d.codec = codec;
  d.extra_labels = std::move(labels);
  return d;
}

std::string wire(const std::string& name) {
  std::string bytes = testing::read_file("fixtures/wire/" + name);
  bytes.pop_back();  // the framing LF
  return bytes;
}

template <class T>
T compiled(std::variant<T, std::string> v) {
  if (auto* error = std::get_if<std::string>(&v)) ADD_FAILURE() << *error;
  return std::move(std::get<T>(v));
}

struct Outcome {
  bool kept = false;
  DestinationPipeline::Result result;
  Message message;
};

Outcome ship(const Destination& d, const std::string& line = kAuditLine, Source source = {},
             Profile profile = Profile::gen_c) {
  auto src = compiled(SourcePipeline::compile(source, settings(profile)));
  auto dst = compiled(DestinationPipeline::compile(d, settings(profile)));
  Outcome o;
  nlohmann::json event;
  o.kept = src.build(line, kPath, kReadNs, kZone, event);
  if (o.kept) o.result = dst.process(std::move(event), kReadNs, o.message);
  return o;
}

Source kubelet_filter() {
  Source s;
  s.name = "kubelet-audit-logs";
  s.log_filter = {{"userAgent", FilterOperator::regex, {std::string("kubelet.*")}}};
  return s;
}

TEST(Pipeline, JsonGenCIsTheWorkedExample) { EXPECT_EQ(ship(socket(Codec::json)).message.payload, wire("dkp-gen-c-tcp.json")); }

TEST(Pipeline, JsonGenBHasPodHostAndNoFile) {
  const auto o = ship(socket(Codec::json), kAuditLine, {}, Profile::gen_b);
  const std::string expected = R"({"host":"log-shipper-agent-7xk2p","message":)" + nlohmann::json(kAuditLine).dump() +
                               R"(,"source_type":"file","timestamp":"2025-01-15T10:20:30.130512345+03:00"})";
  EXPECT_EQ(o.message.payload, expected);
}

TEST(Pipeline, JsonWithCefLabelsNestsThem) {
  const auto o = ship(socket(Codec::json, {{"cef.name", "d8"}, {"cef.severity", "1"}}));
  EXPECT_TRUE(o.message.payload.starts_with(R"({"cef":{"name":"d8","severity":"1"},"file":)")) << o.message.payload;
}

TEST(Pipeline, ParsedDataNeverReachesTheWire) {
  const auto o = ship(socket(Codec::json, {{"user", "{{ user.username }}"}}), kAuditLine, kubelet_filter());
  ASSERT_TRUE(o.kept);
  EXPECT_EQ(o.message.payload.find("parsed_data"), std::string::npos);
  EXPECT_NE(o.message.payload.find(R"("user":"system:node:master-0")"), std::string::npos);
}

TEST(Pipeline, CefDefaultsAreTheWorkedExample) { EXPECT_EQ(ship(socket(Codec::cef)).message.payload, wire("dkp-gen-c-tcp.cef")); }

TEST(Pipeline, CefLabelsSetNameSeverityAndExtensions) {
  const auto o = ship(socket(Codec::cef, {{"cef.name", "d8"}, {"cef.severity", "1"}}));
  std::string expected = wire("dkp-gen-c-tcp.cef");
  expected.replace(0, std::string("CEF:1|Deckhouse|log-shipper-agent|1|Log event|Deckhouse Event|5|").size(),
                   "CEF:1|Deckhouse|log-shipper-agent|1|Log event|d8|1|cefname=d8 cefseverity=1 ");
  EXPECT_EQ(o.message.payload, expected);
}

TEST(Pipeline, CefGenBExtensions) {
  const auto o = ship(socket(Codec::cef), kAuditLine, {}, Profile::gen_b);
  EXPECT_TRUE(o.message.payload.starts_with(
      "CEF:1|Deckhouse|log-shipper-agent|1|Log event|Deckhouse Event|5|host=log-shipper-agent-7xk2p message={"))
      << o.message.payload;
  EXPECT_TRUE(o.message.payload.ends_with(" timestamp=2025-01-15T10:20:30.130512345+03:00"));
}

TEST(Pipeline, CefDeviceFieldsComeFromTheManifest) {
  auto d = socket(Codec::cef);
  d.cef = {"Ven|dor", "Prod", "2.0"};
  EXPECT_TRUE(ship(d).message.payload.starts_with(R"(CEF:1|Ven\|dor|Prod|2.0|Log event|)"));
}

TEST(Pipeline, CefSeverityWordsMapAndInvalidOnesDrop) {
  EXPECT_TRUE(ship(socket(Codec::cef, {{"cef.severity", "Warning"}})).message.payload.find("|Deckhouse Event|6|") !=
              std::string::npos);
  for (const char* bad : {"info", "warning", "Warn", "11"}) {
    const auto o = ship(socket(Codec::cef, {{"cef.severity", bad}}));
    EXPECT_EQ(o.result.drop, Drop::cef_severity) << bad;
  }
  EXPECT_EQ(ship(socket(Codec::cef, {{"cef.severity", "05"}})).result.drop, std::nullopt);
}

TEST(Pipeline, CefNameOver512BytesDrops) {
  auto d = socket(Codec::cef, {{"cef.name", "{{ requestURI }}"}});
  std::string line = kAuditLine;
  line.replace(line.find("/api/v1/nodes"), 1, "/" + std::string(600, 'x'));
  EXPECT_EQ(ship(d, line).result.drop, Drop::cef_name);
}

TEST(Pipeline, SyslogIsTheWorkedExample) {
  EXPECT_EQ(ship(socket(Codec::syslog)).message.payload, wire("dkp-gen-c-tcp.syslog"));
  EXPECT_EQ(ship(socket(Codec::syslog), kAuditLine, {}, Profile::gen_b).message.payload, wire("dkp-gen-c-tcp.syslog"));
}

TEST(Pipeline, SyslogSeverityKeywordAndFallback) {
  EXPECT_TRUE(ship(socket(Codec::syslog, {{"syslog.severity", "alert"}})).message.payload.starts_with("<9>1 "));
  const auto fallback = ship(socket(Codec::syslog, {{"syslog.severity", "Info"}}));
  EXPECT_EQ(fallback.message.payload, kAuditLine);
  EXPECT_TRUE(fallback.result.passed_unmodified);
  EXPECT_EQ(fallback.result.drop, std::nullopt);
}

TEST(Pipeline, SyslogAppAndMsgidFromLabels) {
  const auto o = ship(socket(Codec::syslog, {{"app", "audit"}, {"syslog.message_id", "k8s"}}));
  EXPECT_TRUE(o.message.payload.starts_with("<14>1 2025-01-15T10:20:30.130512345+03:00 master-0 audit - k8s - \xEF\xBB\xBF"))
      << o.message.payload;
}

TEST(Pipeline, TextAndGelf) {
  EXPECT_EQ(ship(socket(Codec::text)).message.payload, kAuditLine);
  EXPECT_TRUE(ship(socket(Codec::gelf)).message.payload.starts_with(R"({"_host_ip":"10.0.0.5","_source_type":"file",)"));
}

TEST(Pipeline, LogFilterKeepsKubeletOnly) {
  EXPECT_TRUE(ship(socket(Codec::json), kAuditLine, kubelet_filter()).kept);
  EXPECT_FALSE(ship(socket(Codec::json), kControllerLine, kubelet_filter()).kept);
  EXPECT_FALSE(ship(socket(Codec::json), R"({"kind":"Event"})", kubelet_filter()).kept);  // no userAgent
  EXPECT_FALSE(ship(socket(Codec::json), "not json at all", kubelet_filter()).kept);
}

TEST(Pipeline, LabelFilterSeesTheEventRoot) {
  Source s;
  s.label_filter = {{"file", FilterOperator::in, {kPath}}};
  EXPECT_TRUE(ship(socket(Codec::json), kAuditLine, s).kept);
  s.label_filter = {{"host", FilterOperator::not_in, {std::string("master-0")}}};
  EXPECT_FALSE(ship(socket(Codec::json), kAuditLine, s).kept);
}

TEST(Pipeline, RateLimitDropsBeyondTheBucket) {
  auto d = socket(Codec::json);
  d.rate_limit = RateLimitSpec{2, std::nullopt, {}};
  auto src = compiled(SourcePipeline::compile({}, settings()));
  auto dst = compiled(DestinationPipeline::compile(d, settings()));
  std::vector<std::optional<Drop>> drops;
  for (int i = 0; i < 3; ++i) {
    nlohmann::json event;
    ASSERT_TRUE(src.build(kAuditLine, kPath, kReadNs, kZone, event));
    Message m;
    drops.push_back(dst.process(std::move(event), kReadNs, m).drop);
  }
  EXPECT_EQ(drops, (std::vector<std::optional<Drop>>{std::nullopt, std::nullopt, Drop::rate_limit}));
}

TEST(Pipeline, KafkaTopicTemplateAndKey) {
  Destination d;
  d.name = "kuma-kafka";
  d.transport = KafkaSpec{"logs-{{ host }}-%Y-%m-%d", {"127.0.0.1:9092"}, std::string("host"), std::nullopt};
  const auto o = ship(d);
  EXPECT_EQ(o.message.topic, "logs-master-0-2025-01-15");
  EXPECT_EQ(o.message.key, "master-0");
  EXPECT_EQ(o.message.payload, wire("dkp-gen-c-tcp.json"));

  d.transport = KafkaSpec{"k8s-logs", {"127.0.0.1:9092"}, std::nullopt, std::nullopt};
  EXPECT_EQ(ship(d).message.key, std::nullopt);
  d.transport = KafkaSpec{"logs-{{ namespace }}", {"127.0.0.1:9092"}, std::nullopt, std::nullopt};
  EXPECT_EQ(ship(d).result.drop, Drop::kafka_topic);
}

TEST(Pipeline, CefExtensionKeysVectorRejectsFailToCompile) {
  auto result = DestinationPipeline::compile(socket(Codec::cef, {{"env2", "prod"}}), settings());
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_NE(std::get<std::string>(result).find("kuma"), std::string::npos);
}

}  // namespace
}  // namespace kumasim::shipper

namespace kumasim::shipper {
namespace {

TEST(TopicTemplate, LiteralFieldsAndUtcDates) {
  const nlohmann::json event = {{"host", "master-0"}, {"n", 7}, {"f", 1.5}};
  const std::int64_t new_year_eve = 1767225599LL * 1'000'000'000;  // 2025-12-31T23:59:59Z
  EXPECT_EQ(TopicTemplate("k8s-logs").render(event, 0), "k8s-logs");
  EXPECT_EQ(TopicTemplate("logs-{{host}}-{{ n }}-{{ f }}").render(event, 0), "logs-master-0-7-1.5");
  EXPECT_EQ(TopicTemplate("%Y.%m.%d-{{ host }}").render(event, new_year_eve), "2025.12.31-master-0");
  EXPECT_EQ(TopicTemplate("{{ missing }}").render(event, 0), std::nullopt);
}

TEST(TopicTemplate, FieldValuesAreNotStrftimeFormats) {
  const nlohmann::json event = {{"host", "100%Y"}};
  EXPECT_EQ(TopicTemplate("%Y-{{ host }}").render(event, 0), "1970-100%Y");
}

}  // namespace
}  // namespace kumasim::shipper
