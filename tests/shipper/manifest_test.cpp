// The manifest loader and validator: DKP's CRD rules, the Vector-config checks
// and the warnings of dkp-log-shipper.md §3-§5, §14 and §15.
#include "shipper/manifest/manifest.h"

#include "formats/base64.h"
#include "shipper/manifest/rules.h"
#include "support/receivers.h"
#include "support/test_data.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace kumasim::shipper {
namespace {

namespace fs = std::filesystem;
using Severity = Diagnostic::Severity;

const std::vector<std::string> kFixtures = {"kuma-udp-json.yaml", "kuma-tcp-json.yaml", "kuma-tcp-cef.yaml",
                                            "kuma-tcp-syslog.yaml", "kuma-kafka.yaml"};

std::string indent(const std::string& text, int spaces) {
  std::string out, line;
  std::istringstream in(text);
  while (std::getline(in, line)) out += std::string(static_cast<std::size_t>(spaces), ' ') + line + "\n";
  return out;
}

// A Socket CLD named `name`: `socket` is the body of spec.socket, `spec` more spec fields.
std::string socket_cld(const std::string& socket = "address: 127.0.0.1:5514\nmode: TCP\n", const std::string& spec = "",
                       const std::string& name = "kuma") {
  return "apiVersion: deckhouse.io/v1alpha1\nkind: ClusterLogDestination\nmetadata:\n  name: " + name +
         "\nspec:\n  type: Socket\n  socket:\n" + indent(socket, 4) + indent(spec, 2);
}

std::string kafka_cld(const std::string& kafka = "topic: k8s-logs\nbootstrapServers: [kafka:9092]\n",
                      const std::string& spec = "") {
  return "apiVersion: deckhouse.io/v1alpha1\nkind: ClusterLogDestination\nmetadata:\n  name: kuma\nspec:\n"
         "  type: Kafka\n  kafka:\n" +
         indent(kafka, 4) + indent(spec, 2);
}

const std::string kFileSpec =
    "type: File\nfile:\n  include: [/var/log/kube-audit/audit.log]\ndestinationRefs: [kuma]\n";

std::string clc(const std::string& spec = kFileSpec, const std::string& name = "audit") {
  return "apiVersion: deckhouse.io/v1alpha2\nkind: ClusterLoggingConfig\nmetadata:\n  name: " + name + "\nspec:\n" +
         indent(spec, 2);
}

std::string log_filter(const std::string& entries) { return kFileSpec + "logFilter:\n" + indent(entries, 2); }

std::string dump(const Manifests& m) {
  std::string out;
  for (const auto& d : m.diagnostics) out += to_string(d) + "\n";
  return out;
}

const Diagnostic* find(const Manifests& m, std::string_view code, std::string_view path = {}) {
  const auto it = std::find_if(m.diagnostics.begin(), m.diagnostics.end(),
                               [&](const Diagnostic& d) { return d.code == code && (path.empty() || d.path == path); });
  return it == m.diagnostics.end() ? nullptr : &*it;
}

std::size_t count(const Manifests& m, std::string_view code) {
  return static_cast<std::size_t>(
      std::count_if(m.diagnostics.begin(), m.diagnostics.end(), [&](const Diagnostic& d) { return d.code == code; }));
}

std::vector<std::string> codes(const Manifests& m, Severity severity) {
  std::vector<std::string> out;
  for (const auto& d : m.diagnostics) {
    if (d.severity == severity) out.push_back(d.code);
  }
  std::sort(out.begin(), out.end());
  return out;
}

#define EXPECT_DIAG(m, severity, code, path)                                          \
  do {                                                                                \
    const Diagnostic* found_ = find(m, code, path);                                   \
    ASSERT_NE(found_, nullptr) << "no " << code << " at " << path << "\n" << dump(m); \
    EXPECT_EQ(found_->severity, severity) << to_string(*found_);                      \
  } while (0)
#define EXPECT_ERROR(m, code, path) EXPECT_DIAG(m, Severity::error, code, path)
#define EXPECT_WARNING(m, code, path) EXPECT_DIAG(m, Severity::warning, code, path)
#define EXPECT_CLEAN(m) EXPECT_TRUE((m).diagnostics.empty()) << dump(m)

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("manifest_test_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  Manifests load(const std::string& text) { return load_manifests({write("m.yaml", text)}); }
  Manifests load(const std::vector<std::string>& texts) {
    std::vector<std::string> files;
    for (std::size_t i = 0; i < texts.size(); ++i) files.push_back(write("m" + std::to_string(i) + ".yaml", texts[i]));
    return load_manifests(files);
  }
  // A fixture of fixtures/manifests with a real address, written under its own name.
  std::string fixture(const std::string& name) {
    std::string text = kumasim::testing::read_file("fixtures/manifests/" + name);
    for (std::size_t at; (at = text.find("IP_ADDRESS:PORT")) != std::string::npos;) {
      text.replace(at, 15, "127.0.0.1:5514");
    }
    return write(name, text);
  }

  fs::path dir_;
};

// ---------------------------------------------------------------- §14 fixtures

// §14: the five documented pairs together give exactly the listed warnings.
TEST_F(ManifestTest, FiveDocumentedConfigurationsGiveTheListedWarnings) {
  std::vector<std::string> files;
  for (const auto& name : kFixtures) files.push_back(fixture(name));
  const Manifests m = load_manifests(files);
  EXPECT_FALSE(m.has_errors()) << dump(m);
  const std::vector<std::string> expected = {"duplicate-name",     "duplicate-name",           "duplicate-name",
                                             "duplicate-name",     "extralabels-under-socket", "tcp-verify-ignored",
                                             "tcp-verify-ignored", "tcp-verify-ignored",       "tcp-verify-ignored",
                                             "tcp-verify-ignored", "tcp-verify-ignored",       "udp-large-events"};
  EXPECT_EQ(codes(m, Severity::warning), expected) << dump(m);
  EXPECT_EQ(find(m, "extralabels-under-socket")->file, files[2]);
  EXPECT_EQ(find(m, "extralabels-under-socket")->path, "spec.socket.extraLabels");
  EXPECT_EQ(find(m, "udp-large-events")->file, files[0]);
  EXPECT_EQ(find(m, "tcp-verify-ignored", "spec.socket.tcp.verifyCertificate")->file, files[1]);
  ASSERT_EQ(m.destinations.size(), 5u);
  ASSERT_EQ(m.sources.size(), 1u);  // every CLC is named kubelet-audit-logs: the last one wins
  EXPECT_EQ(m.sources[0].destination_refs, std::vector<std::string>{"kuma-kafka"});
}

// §14 #3: the misplaced labels are pruned, so the destination has none; TLS stays off.
TEST_F(ManifestTest, CefFixtureHasNoLabelsAndPlainTcp) {
  const Manifests m = load_manifests({fixture("kuma-tcp-cef.yaml")});
  const Destination* d = m.destination("kuma-tcp-cef");
  ASSERT_NE(d, nullptr) << dump(m);
  EXPECT_EQ(d->codec, Codec::cef);
  EXPECT_TRUE(d->extra_labels.empty());
  EXPECT_FALSE(d->tls.enabled);
  EXPECT_TRUE(d->tls.verify_certificate && d->tls.verify_hostname);
  const auto& socket = std::get<SocketSpec>(d->transport);
  EXPECT_EQ(socket.host, "127.0.0.1");
  EXPECT_EQ(socket.port, 5514);
  ASSERT_EQ(m.sources.size(), 1u);
  ASSERT_EQ(m.sources[0].log_filter.size(), 1u);
  EXPECT_EQ(m.sources[0].log_filter[0].op, FilterOperator::regex);
  EXPECT_EQ(m.sources[0].include, std::vector<std::string>{"/var/log/kube-audit/audit.log"});
}

// §14 #5: the Kafka example needs no substitution and defaults to JSON.
TEST_F(ManifestTest, KafkaFixtureLoadsAsPublished) {
  const Manifests m = load_manifests({kumasim::testing::source_path("fixtures/manifests/kuma-kafka.yaml")});
  EXPECT_CLEAN(m);
  const Destination* d = m.destination("kuma-kafka");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->codec, Codec::json);
  const auto& kafka = std::get<KafkaSpec>(d->transport);
  EXPECT_EQ(kafka.topic, "k8s-logs");
  EXPECT_EQ(kafka.bootstrap_servers, std::vector<std::string>{"kafka-address:9092"});
  EXPECT_FALSE(kafka.sasl.has_value());
}

// §3.2: the published placeholder fails the address pattern, as the API server would refuse it.
TEST_F(ManifestTest, VerbatimPlaceholderAddressFailsThePattern) {
  const std::string path = kumasim::testing::source_path("fixtures/manifests/kuma-tcp-cef.yaml");
  const Manifests m = load_manifests({path});
  EXPECT_ERROR(m, "pattern", "spec.socket.address");
  const Diagnostic& d = *find(m, "pattern");
  EXPECT_EQ(d.document, 1);
  EXPECT_EQ(d.line, 11);
  EXPECT_EQ(d.column, 14);
  const std::string text = to_string(d);
  EXPECT_EQ(text.rfind(path + ": document 1: spec.socket.address: error[pattern]: `IP_ADDRESS:PORT` does not match "
                              "^.*:[1-9][0-9]+$",
                       0),
            0u)
      << text;
  EXPECT_NE(text.find("(line 11, column 14)"), std::string::npos) << text;
  EXPECT_TRUE(m.destinations.empty());
  // The CLC still loads, but its only destination was rejected.
  EXPECT_WARNING(m, "dangling-destination-ref", "spec.destinationRefs[0]");
}

// ---------------------------------------------------------------- files and envelope

TEST_F(ManifestTest, NonYamlFileIsAnErrorNotAnException) {
  const Manifests m = load("apiVersion: [unclosed\nkind: {\n");
  EXPECT_ERROR(m, "yaml-syntax", "");
  EXPECT_GT(find(m, "yaml-syntax")->line, 0);
  // yaml-cpp 0.7's LoadAll alone would never return on this one.
  EXPECT_ERROR(load(",kind: x\n"), "yaml-syntax", "");
}

TEST_F(ManifestTest, UnreadablePathsAreErrors) {
  const Manifests m = load_manifests({(dir_ / "absent.yaml").string(), dir_.string()});
  ASSERT_EQ(count(m, "file-unreadable"), 2u) << dump(m);
  EXPECT_EQ(m.diagnostics[0].file, (dir_ / "absent.yaml").string());
  EXPECT_EQ(m.diagnostics[0].document, 0);
}

TEST_F(ManifestTest, EmptyDocumentsAreSkippedButCounted) {
  const Manifests m = load("---\n---\n" + socket_cld() + "---\n");
  EXPECT_CLEAN(m);
  EXPECT_NE(m.destination("kuma"), nullptr);
  const Manifests bad = load("---\n---\n" + socket_cld("address: x\nmode: TCP\n"));
  EXPECT_EQ(find(bad, "pattern")->document, 2);
}

TEST_F(ManifestTest, DocumentMustBeAMapping) {
  EXPECT_ERROR(load("just some words\n"), "type", "");
  EXPECT_ERROR(load("- a\n- b\n"), "type", "");
}

TEST_F(ManifestTest, KindRules) {
  EXPECT_ERROR(load("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: {}\n"), "unknown-kind", "kind");
  EXPECT_ERROR(load("apiVersion: deckhouse.io/v1alpha1\nkind: PodLoggingConfig\n"), "unsupported", "kind");
  EXPECT_ERROR(load("apiVersion: deckhouse.io/v1alpha1\nmetadata:\n  name: x\n"), "required", "kind");
  // Another kind's fields are not reported as pruned.
  EXPECT_EQ(count(load("apiVersion: v1\nkind: ConfigMap\ndata: {}\n"), "pruned-field"), 0u);
}

TEST_F(ManifestTest, BothApiVersionsAndNoOther) {
  std::string v2 = socket_cld();
  v2.replace(v2.find("v1alpha1"), 8, "v1alpha2");
  EXPECT_CLEAN(load(v2));
  std::string v1 = clc();
  v1.replace(v1.find("v1alpha2"), 8, "v1alpha1");
  EXPECT_CLEAN(load({socket_cld(), v1}));
  std::string v3 = socket_cld();
  v3.replace(v3.find("v1alpha1"), 8, "v1");
  const Manifests m = load(v3);
  EXPECT_ERROR(m, "unknown-api-version", "apiVersion");
  EXPECT_TRUE(m.destinations.empty());
}

// §15.5: `spec` indented under metadata leaves the object without a spec.
TEST_F(ManifestTest, SpecUnderMetadataIsMissingSpecNotACrash) {
  const Manifests m = load(
      "apiVersion: deckhouse.io/v1alpha2\nkind: ClusterLoggingConfig\nmetadata:\n  name: audit\n"
      "  spec:\n    type: File\n    destinationRefs: [kuma]\n");
  EXPECT_ERROR(m, "required", "spec");
  EXPECT_NE(find(m, "required", "spec")->message.find("indented under metadata"), std::string::npos);
  EXPECT_WARNING(m, "pruned-field", "metadata.spec");
  EXPECT_TRUE(m.sources.empty());
  EXPECT_ERROR(load("apiVersion: deckhouse.io/v1alpha1\nkind: ClusterLogDestination\nmetadata:\n  name: a\nspec: 3\n"),
               "type", "spec");
}

TEST_F(ManifestTest, MetadataName) {
  EXPECT_ERROR(load("apiVersion: deckhouse.io/v1alpha1\nkind: ClusterLogDestination\nspec: {}\n"), "required",
               "metadata");
  EXPECT_ERROR(load(socket_cld("address: 127.0.0.1:5514\nmode: TCP\n", "", "Kuma_TCP")), "name-invalid",
               "metadata.name");
  EXPECT_CLEAN(load(socket_cld("address: 127.0.0.1:5514\nmode: TCP\n", "", "kuma-tcp.example")));
}

// §3.1: unknown fields are pruned, each reported with its path, nested ones too.
TEST_F(ManifestTest, UnknownFieldsArePruned) {
  const Manifests m = load(
      socket_cld("address: 127.0.0.1:5514\nmode: TCP\ntimeout: 5\ntcp:\n  tls:\n    ca: x\n", "extraLabel:\n  a: b\n") +
      "status: {}\n");
  EXPECT_FALSE(m.has_errors()) << dump(m);
  EXPECT_WARNING(m, "pruned-field", "spec.socket.timeout");
  EXPECT_WARNING(m, "pruned-field", "spec.socket.tcp.tls.ca");
  EXPECT_WARNING(m, "pruned-field", "spec.extraLabel");
  EXPECT_WARNING(m, "pruned-field", "status");
  EXPECT_EQ(count(m, "pruned-field"), 4u);
  EXPECT_EQ(find(m, "pruned-field", "spec.socket.timeout")->line, 10);
}

TEST_F(ManifestTest, RepeatedKeyKeepsTheLastValue) {
  const Manifests m = load(socket_cld("address: 127.0.0.1:1\naddress: 127.0.0.1:5514\nmode: TCP\n"));
  EXPECT_WARNING(m, "duplicate-field", "spec.socket.address");
  ASSERT_NE(m.destination("kuma"), nullptr) << dump(m);
  EXPECT_EQ(std::get<SocketSpec>(m.destination("kuma")->transport).port, 5514);
}

// ---------------------------------------------------------------- YAML merge keys

const std::string kCldHead =
    "apiVersion: deckhouse.io/v1alpha1\nkind: ClusterLogDestination\nmetadata:\n  name: kuma\n";

// kubectl reads YAML 1.1 merge keys: the manifest validates as its expanded form.
TEST_F(ManifestTest, MergeKeyExpandsLikeTheWrittenForm) {
  const Manifests plain = load(kCldHead +
                               "x-defaults: &tcp\n  address: 127.0.0.1:5514\n  mode: TCP\n"
                               "spec:\n  type: Socket\n  socket:\n    <<: *tcp\n    encoding:\n      codec: CEF\n");
  EXPECT_FALSE(plain.has_errors()) << dump(plain);
  EXPECT_WARNING(plain, "pruned-field", "x-defaults");
  EXPECT_EQ(plain.diagnostics.size(), 1u) << dump(plain);
  const Destination* d = plain.destination("kuma");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(std::get<SocketSpec>(d->transport).port, 5514);
  EXPECT_EQ(d->codec, Codec::cef);
  // An inline mapping merges too, and so does a whole spec.
  EXPECT_CLEAN(
      load(kCldHead + "spec:\n  <<: {type: Socket}\n  socket: {<<: {address: \"127.0.0.1:5514\"}, mode: TCP}\n"));
  const Manifests clc_merge = load(
      {socket_cld(), "apiVersion: deckhouse.io/v1alpha2\nkind: ClusterLoggingConfig\nmetadata:\n  name: audit\n"
                     "spec:\n  <<: &file\n    type: File\n    file: {include: [/a.log]}\n    destinationRefs: [kuma]\n"
                     "  logFilter:\n  - &verb {field: verb, operator: In, values: [get]}\n"
                     "  - {<<: *verb, values: [list]}\n"});
  EXPECT_FALSE(clc_merge.has_errors()) << dump(clc_merge);
  ASSERT_EQ(clc_merge.sources.size(), 1u);
  ASSERT_EQ(clc_merge.sources[0].log_filter.size(), 2u);
  EXPECT_EQ(clc_merge.sources[0].log_filter[1].field, "verb");
  EXPECT_EQ(clc_merge.sources[0].log_filter[1].values, std::vector<FilterValue>{std::string("list")});
}

// Keys written after `<<` win; in a list the earlier mappings win; merges nest.
TEST_F(ManifestTest, MergeKeyPrecedence) {
  const std::string anchors = "x-a: &a {address: \"10.0.0.1:5514\", mode: TCP}\n"
                              "x-b: &b {address: \"10.0.0.2:5514\", mode: UDP, encoding: {codec: Text}}\n"
                              "x-c: &c {<<: *b, mode: TCP}\n";
  const auto socket_of = [&](const std::string& socket) {
    return kCldHead + anchors + "spec:\n  type: Socket\n  socket:\n" + indent(socket, 4);
  };
  const Manifests explicit_wins = load(socket_of("<<: *a\naddress: 10.0.0.3:5514\n"));
  ASSERT_NE(explicit_wins.destination("kuma"), nullptr) << dump(explicit_wins);
  EXPECT_EQ(std::get<SocketSpec>(explicit_wins.destination("kuma")->transport).host, "10.0.0.3");
  EXPECT_EQ(count(explicit_wins, "merge-key-override"), 0u);
  const Manifests earlier_wins = load(socket_of("<<: [*a, *b]\n"));
  ASSERT_NE(earlier_wins.destination("kuma"), nullptr) << dump(earlier_wins);
  const auto& socket = std::get<SocketSpec>(earlier_wins.destination("kuma")->transport);
  EXPECT_EQ(socket.host, "10.0.0.1");
  EXPECT_EQ(socket.mode, SocketSpec::Mode::tcp);
  EXPECT_EQ(earlier_wins.destination("kuma")->codec, Codec::text);  // only *b has it
  const Manifests nested = load(socket_of("<<: *c\n"));
  ASSERT_NE(nested.destination("kuma"), nullptr) << dump(nested);
  EXPECT_EQ(std::get<SocketSpec>(nested.destination("kuma")->transport).host, "10.0.0.2");
  EXPECT_EQ(std::get<SocketSpec>(nested.destination("kuma")->transport).mode, SocketSpec::Mode::tcp);
  // kubectl (go-yaml v2) applies a `<<` written after a key in document order: the merged value wins.
  const Manifests late = load(socket_of("address: 10.0.0.3:5514\n<<: *a\n"));
  EXPECT_WARNING(late, "merge-key-override", "spec.socket.address");
  EXPECT_EQ(find(late, "merge-key-override")->line, 11);
  ASSERT_NE(late.destination("kuma"), nullptr) << dump(late);
  EXPECT_EQ(std::get<SocketSpec>(late.destination("kuma")->transport).host, "10.0.0.1");
}

// Findings about a merged value point where it is written.
TEST_F(ManifestTest, MergedValuesKeepTheirPosition) {
  const Manifests m = load(kCldHead + "x-bad: &bad\n  address: nowhere\n  mode: tcp\n"
                                      "spec:\n  type: Socket\n  socket:\n    <<: *bad\n");
  EXPECT_ERROR(m, "pattern", "spec.socket.address");
  EXPECT_EQ(find(m, "pattern")->line, 6);
  EXPECT_EQ(find(m, "pattern")->column, 12);
  EXPECT_ERROR(m, "enum", "spec.socket.mode");
  EXPECT_EQ(find(m, "enum")->line, 7);
  EXPECT_EQ(count(m, "pruned-field"), 1u) << dump(m);  // x-bad only
}

TEST_F(ManifestTest, MergeKeyErrors) {
  const auto with_socket = [](const std::string& socket) {
    return kCldHead + "x-a: &a {mode: TCP}\nx-list: &list [1]\nspec:\n  type: Socket\n  socket:\n" + indent(socket, 4);
  };
  for (const std::string bad : {"<<: 5\n", "<<:\n", "<<: *list\n"}) {
    const Manifests m = load(with_socket("address: 127.0.0.1:5514\n" + bad));
    EXPECT_ERROR(m, "yaml-merge-invalid", "spec.socket[\"<<\"]");
    EXPECT_EQ(m.diagnostics.size(), 1u) << dump(m);  // kubectl refuses the document: nothing else is read
  }
  const Manifests item = load(with_socket("address: 127.0.0.1:5514\n<<: [*a, x]\n"));
  EXPECT_ERROR(item, "yaml-merge-invalid", "spec.socket[\"<<\"][1]");
  EXPECT_TRUE(item.destinations.empty());
  // A quoted `<<` is an ordinary key, and the API server prunes it.
  const Manifests quoted = load(with_socket("address: 127.0.0.1:5514\nmode: TCP\n\"<<\": *a\n"));
  EXPECT_WARNING(quoted, "pruned-field", "spec.socket[\"<<\"]");
  EXPECT_FALSE(quoted.has_errors()) << dump(quoted);
  // An alias inside its own anchor.
  const Manifests cycle = load(kCldHead + "spec: &s\n  type: Socket\n  socket: {<<: *s}\n");
  EXPECT_ERROR(cycle, "yaml-alias-cycle", "spec.socket[\"<<\"]");
  EXPECT_TRUE(cycle.destinations.empty());
}

// ---------------------------------------------------------------- types

TEST_F(ManifestTest, WrongYamlTypesAreTypeErrors) {
  EXPECT_ERROR(load(socket_cld("address: {host: a}\nmode: TCP\n")), "type", "spec.socket.address");
  EXPECT_ERROR(load(socket_cld("address: 127.0.0.1:5514\nmode: [TCP]\n")), "type", "spec.socket.mode");
  EXPECT_ERROR(load(socket_cld("- address\n")), "type", "spec.socket");
  EXPECT_ERROR(load(socket_cld("address: 127.0.0.1:5514\nmode: TCP\ntcp:\n  verifyHostname: \"false\"\n")), "type",
               "spec.socket.tcp.verifyHostname");
}

// kubectl reads YAML 1.1: a plain 1 is an integer and `yes` a boolean, so a string field refuses them.
TEST_F(ManifestTest, PlainScalarsAreTypedAsKubectlTypesThem) {
  const std::string cef = "address: 127.0.0.1:5514\nmode: TCP\nencoding:\n  codec: CEF\n  cef:\n";
  const Manifests m = load(socket_cld(cef + "    deviceVersion: 1\n    deviceProduct: yes\n"));
  EXPECT_ERROR(m, "type", "spec.socket.encoding.cef.deviceVersion");
  EXPECT_NE(find(m, "type", "spec.socket.encoding.cef.deviceVersion")->message.find("quote"), std::string::npos);
  EXPECT_ERROR(m, "type", "spec.socket.encoding.cef.deviceProduct");
  const Manifests quoted = load(socket_cld(cef + "    deviceVersion: \"1\"\n    deviceProduct: 'yes'\n"));
  EXPECT_CLEAN(quoted);
  EXPECT_EQ(quoted.destination("kuma")->cef.product, "yes");
}

TEST_F(ManifestTest, NullValuesCountAsAbsent) {
  EXPECT_ERROR(load(socket_cld("address:\nmode: TCP\n")), "required", "spec.socket.address");
  EXPECT_CLEAN(load(socket_cld("address: 127.0.0.1:5514\nmode: TCP\nencoding: ~\n")));
}

// ---------------------------------------------------------------- ClusterLogDestination

TEST_F(ManifestTest, DestinationTypeRules) {
  const auto with_type = [](const std::string& type) {
    const std::string head = "apiVersion: deckhouse.io/v1alpha1\nkind: ClusterLogDestination\nmetadata:\n  name: kuma\n";
    return head + "spec:\n  type: " + type + "\n  loki:\n    endpoint: http://loki:3100\n";
  };
  EXPECT_ERROR(load(with_type("Loki")), "unsupported", "spec.type");
  const Manifests lower = load(with_type("socket"));
  EXPECT_ERROR(lower, "enum", "spec.type");
  EXPECT_NE(find(lower, "enum")->message.find("did you mean `Socket`"), std::string::npos);
  EXPECT_ERROR(load("apiVersion: deckhouse.io/v1alpha1\nkind: ClusterLogDestination\nmetadata:\n  name: k\n"
                    "spec:\n  socket: {}\n"),
               "required", "spec.type");
}

// §3.1 oneOf: the type needs its sub-object; those of other types are ignored with a warning.
TEST_F(ManifestTest, TypeNeedsItsSubObject) {
  std::string socket_type = kafka_cld();
  socket_type.replace(socket_type.find("type: Kafka"), 11, "type: Socket");
  EXPECT_ERROR(load(socket_type), "one-of", "spec.socket");
  const Manifests m = load(socket_cld("address: 127.0.0.1:5514\nmode: TCP\n", "kafka:\n  topic: x\n"));
  EXPECT_WARNING(m, "ignored-sub-object", "spec.kafka");
  EXPECT_FALSE(m.has_errors());
  EXPECT_WARNING(load(kafka_cld("topic: t\nbootstrapServers: [k:9092]\n", "elasticsearch: {}\n")), "ignored-sub-object",
                 "spec.elasticsearch");
}

TEST_F(ManifestTest, TransformationsAreUnsupported) {
  EXPECT_ERROR(load(socket_cld("address: 127.0.0.1:5514\nmode: TCP\n", "transformations: []\n")), "unsupported",
               "spec.transformations");
  EXPECT_ERROR(load(clc(kFileSpec + "transformations:\n- action: DropLabels\n")), "unsupported",
               "spec.transformations");
}

// §3.2 address pattern ^.*:[1-9][0-9]+$ and the port range.
TEST_F(ManifestTest, SocketAddress) {
  for (const std::string bad : {"127.0.0.1:5", "127.0.0.1:05", "127.0.0.1", "127.0.0.1:514x", "host:"}) {
    EXPECT_ERROR(load(socket_cld("address: \"" + bad + "\"\nmode: TCP\n")), "pattern", "spec.socket.address");
  }
  const Manifests v6 = load(socket_cld("address: \"[::1]:10\"\nmode: TCP\n"));
  ASSERT_NE(v6.destination("kuma"), nullptr) << dump(v6);
  const auto& socket = std::get<SocketSpec>(v6.destination("kuma")->transport);
  EXPECT_EQ(socket.host, "::1");
  EXPECT_EQ(socket.port, 10);
  EXPECT_EQ(socket.address, "[::1]:10");
  EXPECT_CLEAN(load(socket_cld("address: kuma.example.com:65535\nmode: TCP\n")));
  EXPECT_ERROR(load(socket_cld("address: kuma:65536\nmode: TCP\n")), "port-range", "spec.socket.address");
  EXPECT_ERROR(load(socket_cld("address: kuma:99999999999999999999999\nmode: TCP\n")), "port-range",
               "spec.socket.address");
}

TEST_F(ManifestTest, SocketMode) {
  EXPECT_ERROR(load(socket_cld("address: 127.0.0.1:5514\n")), "required", "spec.socket.mode");
  EXPECT_ERROR(load(socket_cld("address: 127.0.0.1:5514\nmode: tcp\n")), "enum", "spec.socket.mode");
  const Manifests udp = load(socket_cld("address: 127.0.0.1:5514\nmode: UDP\n"));
  EXPECT_WARNING(udp, "udp-large-events", "spec.socket.mode");
  EXPECT_EQ(std::get<SocketSpec>(udp.destination("kuma")->transport).mode, SocketSpec::Mode::udp);
}

TEST_F(ManifestTest, Codecs) {
  for (const auto& [name, codec] : std::vector<std::pair<std::string, Codec>>{{"Text", Codec::text},
                                                                              {"JSON", Codec::json},
                                                                              {"Syslog", Codec::syslog},
                                                                              {"CEF", Codec::cef},
                                                                              {"GELF", Codec::gelf}}) {
    const Manifests m = load(socket_cld("address: 127.0.0.1:5514\nmode: TCP\nencoding:\n  codec: " + name + "\n"));
    ASSERT_NE(m.destination("kuma"), nullptr) << dump(m);
    EXPECT_EQ(m.destination("kuma")->codec, codec) << name;
  }
  EXPECT_ERROR(load(socket_cld("address: 127.0.0.1:5514\nmode: TCP\nencoding:\n  codec: Json\n")), "enum",
               "spec.socket.encoding.codec");
  EXPECT_ERROR(load(kafka_cld("topic: t\nbootstrapServers: [k:9092]\nencoding:\n  codec: Syslog\n")), "enum",
               "spec.kafka.encoding.codec");
  EXPECT_EQ(
      load(kafka_cld("topic: t\nbootstrapServers: [k:9092]\nencoding:\n  codec: CEF\n")).destination("kuma")->codec,
      Codec::cef);
}

// §3.2: encoding.cef only with codec CEF; each device field non-empty and within Vector's limits.
TEST_F(ManifestTest, CefDevice) {
  const std::string base = "address: 127.0.0.1:5514\nmode: TCP\nencoding:\n";
  EXPECT_ERROR(load(socket_cld(base + "  codec: JSON\n  cef:\n    deviceVendor: X\n")), "one-of",
               "spec.socket.encoding.cef");
  EXPECT_ERROR(load(socket_cld(base + "  cef:\n    deviceVendor: X\n")), "one-of", "spec.socket.encoding.cef");
  const std::string cef = base + "  codec: CEF\n  cef:\n";
  EXPECT_ERROR(load(socket_cld(cef + "    deviceVendor: \"\"\n")), "min-length",
               "spec.socket.encoding.cef.deviceVendor");
  EXPECT_ERROR(load(socket_cld(cef + "    deviceVendor: " + std::string(64, 'v') + "\n")), "cef-device-field-too-long",
               "spec.socket.encoding.cef.deviceVendor");
  // 62 bytes plus `|`, which header escaping doubles: 64.
  EXPECT_ERROR(load(socket_cld(cef + "    deviceProduct: \"" + std::string(62, 'p') + "|\"\n")),
               "cef-device-field-too-long", "spec.socket.encoding.cef.deviceProduct");
  EXPECT_ERROR(load(socket_cld(cef + "    deviceVersion: \"" + std::string(32, '1') + "\"\n")),
               "cef-device-field-too-long", "spec.socket.encoding.cef.deviceVersion");
  const Manifests ok = load(socket_cld(cef + "    deviceVendor: " + std::string(63, 'v') + "\n    deviceVersion: \"" +
                                       std::string(31, '1') + "\"\n"));
  EXPECT_CLEAN(ok);
  EXPECT_EQ(ok.destination("kuma")->cef.vendor, std::string(63, 'v'));
  EXPECT_EQ(ok.destination("kuma")->cef.product, "log-shipper-agent");
  EXPECT_ERROR(
      load(kafka_cld("topic: t\nbootstrapServers: [k:9092]\nencoding:\n  codec: CEF\n  cef:\n    deviceVersion: \"" +
                     std::string(32, '1') + "\"\n")),
      "cef-device-field-too-long", "spec.kafka.encoding.cef.deviceVersion");
}

// ---------------------------------------------------------------- TLS

// Real PEM (ECDSA P-256), made once: validate parses what TLS would load (§3.3).
const pki::Bundle& test_pki() {
  static const pki::Bundle bundle = [] {
    pki::Bundle out;
    if (const auto error = pki::generate({}, out)) throw std::runtime_error("test PKI: " + *error);
    return out;
  }();
  return bundle;
}
std::string b64(const std::string& text) { return formats::base64_encode(text); }
std::string ca_base64() { return b64(test_pki().ca.cert_pem); }
std::string client_crt(const std::string& key_pem = test_pki().client.key_pem, const std::string& extra = "") {
  return "clientCrt:\n  crtFile: " + b64(test_pki().client.cert_pem) + "\n  keyFile: " + b64(key_pem) + "\n" + extra;
}

std::string socket_tls(const std::string& tls) {
  return socket_cld("address: 127.0.0.1:5514\nmode: TCP\ntcp:\n  tls:\n" + indent(tls, 4));
}

// §3.3: base64 of PEM; TLS is on iff caFile or crtFile is a non-empty manifest string.
TEST_F(ManifestTest, TlsMaterialIsDecoded) {
  const Manifests m = load(socket_tls("caFile: " + ca_base64() + "\n"));
  EXPECT_CLEAN(m);
  const Destination& d = *m.destination("kuma");
  EXPECT_TRUE(d.tls.enabled);
  EXPECT_EQ(d.tls.ca_pem, test_pki().ca.cert_pem);
  EXPECT_TRUE(d.tls.verify_hostname && d.tls.verify_certificate);
  const Manifests crt =
      load(socket_tls(client_crt(test_pki().client.key_pem, "  keyPass: cGFzcw==\n")));
  EXPECT_CLEAN(crt);
  EXPECT_TRUE(crt.destination("kuma")->tls.enabled);
  EXPECT_EQ(crt.destination("kuma")->tls.key_pass, "pass");
  EXPECT_FALSE(load(socket_tls("caFile: \"\"\n")).destination("kuma")->tls.enabled);
}

// §3.3 and §16.6: a value that does not decode becomes "", yet TLS is on because the string is set.
TEST_F(ManifestTest, InvalidBase64BecomesEmptyWithAWarning) {
  const Manifests m = load(socket_tls("caFile: not*base64\n"));
  EXPECT_WARNING(m, "base64-invalid", "spec.socket.tcp.tls.caFile");
  EXPECT_FALSE(m.has_errors());
  EXPECT_TRUE(m.destination("kuma")->tls.enabled);
  EXPECT_EQ(m.destination("kuma")->tls.ca_pem, "");
}

TEST_F(ManifestTest, ClientCertificateNeedsBothFiles) {
  const std::string crt = b64(test_pki().client.cert_pem), key = b64(test_pki().client.key_pem);
  const Manifests m = load(socket_tls("caFile: " + ca_base64() + "\nclientCrt:\n  crtFile: " + crt + "\n"));
  EXPECT_ERROR(m, "client-crt-incomplete", "spec.socket.tcp.tls.clientCrt.keyFile");
  EXPECT_ERROR(load(socket_tls("caFile: " + ca_base64() + "\nclientCrt:\n  keyFile: " + key + "\n")),
               "client-crt-incomplete", "spec.socket.tcp.tls.clientCrt.crtFile");
}

TEST_F(ManifestTest, TlsNotEnabledWarnings) {
  const Manifests key_only = load(socket_tls("clientCrt:\n  keyFile: " + b64(test_pki().client.key_pem) + "\n"));
  EXPECT_WARNING(key_only, "tls-not-enabled", "spec.socket.tcp.tls");
  const Manifests udp =
      load(socket_cld("address: 127.0.0.1:5514\nmode: UDP\ntcp:\n  tls:\n    caFile: " + ca_base64() + "\n"));
  EXPECT_WARNING(udp, "tls-not-enabled", "spec.socket.tcp");
  EXPECT_FALSE(udp.destination("kuma")->tls.enabled);
  const Manifests kafka = load(kafka_cld("topic: t\nbootstrapServers: [k:9092]\ntls:\n  verifyHostname: false\n"));
  EXPECT_WARNING(kafka, "tls-not-enabled", "spec.kafka.tls");
  EXPECT_EQ(count(load(socket_tls("caFile: " + ca_base64() + "\n")), "tls-not-enabled"), 0u);
}

// §3.4: tcp.verify* is accepted and ignored; tcp.tls.verify* is pruned; both stay true.
TEST_F(ManifestTest, SocketVerifyFlagsAreIgnoredInBothPlacements) {
  const Manifests crd =
      load(socket_cld("address: 127.0.0.1:5514\nmode: TCP\ntcp:\n  verifyHostname: false\n"
                      "  verifyCertificate: false\n  tls:\n    caFile: " +
                      ca_base64() + "\n"));
  EXPECT_WARNING(crd, "tcp-verify-ignored", "spec.socket.tcp.verifyHostname");
  EXPECT_WARNING(crd, "tcp-verify-ignored", "spec.socket.tcp.verifyCertificate");
  EXPECT_EQ(count(crd, "pruned-field"), 0u);
  EXPECT_NE(find(crd, "tcp-verify-ignored")->message.find("always verified"), std::string::npos);
  const Manifests code =
      load(socket_tls("caFile: " + ca_base64() + "\nverifyHostname: false\nverifyCertificate: false\n"));
  EXPECT_WARNING(code, "tcp-verify-ignored", "spec.socket.tcp.tls.verifyHostname");
  EXPECT_WARNING(code, "pruned-field", "spec.socket.tcp.tls.verifyHostname");
  EXPECT_WARNING(code, "tcp-verify-ignored", "spec.socket.tcp.tls.verifyCertificate");
  EXPECT_WARNING(code, "pruned-field", "spec.socket.tcp.tls.verifyCertificate");
  for (const Manifests* m : {&crd, &code}) {
    ASSERT_NE(m->destination("kuma"), nullptr) << dump(*m);
    EXPECT_TRUE(m->destination("kuma")->tls.verify_hostname);
    EXPECT_TRUE(m->destination("kuma")->tls.verify_certificate);
  }
}

// §3.5: Kafka honours its verify flags.
TEST_F(ManifestTest, KafkaVerifyFlagsAreHonoured) {
  const Manifests m = load(kafka_cld("topic: t\nbootstrapServers: [k:9092]\ntls:\n  caFile: " + ca_base64() +
                                     "\n  verifyHostname: false\n"));
  EXPECT_CLEAN(m);
  EXPECT_TRUE(m.destination("kuma")->tls.enabled);
  EXPECT_FALSE(m.destination("kuma")->tls.verify_hostname);
  EXPECT_TRUE(m.destination("kuma")->tls.verify_certificate);
}

// §3.2: the Secret would replace the inline material, and kumasim reads no Secrets.
TEST_F(ManifestTest, SecretRefIsUnsupported) {
  const Manifests m = load(socket_tls("secretRef:\n  name: kuma-tls\n"));
  EXPECT_ERROR(m, "unsupported", "spec.socket.tcp.tls.secretRef.name");
  const std::string& message = find(m, "unsupported")->message;
  EXPECT_NE(message.find("`d8-log-shipper/kuma-tls`"), std::string::npos) << message;
  EXPECT_NE(message.find("caFile and clientCrt"), std::string::npos) << message;
  EXPECT_EQ(m.destination("kuma"), nullptr);
  // Beside inline material too: the Secret would win.
  EXPECT_ERROR(load(socket_tls("caFile: " + ca_base64() + "\nsecretRef:\n  name: kuma-tls\n")), "unsupported",
               "spec.socket.tcp.tls.secretRef.name");
  // No name, no Secret.
  EXPECT_CLEAN(load(socket_tls("caFile: " + ca_base64() + "\nsecretRef: {}\n")));
  // UDP never uses TLS, so the Secret is never read.
  const Manifests udp =
      load(socket_cld("address: 127.0.0.1:5514\nmode: UDP\ntcp:\n  tls:\n    secretRef:\n      name: kuma-tls\n"));
  EXPECT_FALSE(udp.has_errors()) << dump(udp);
  EXPECT_WARNING(udp, "tls-not-enabled", "spec.socket.tcp");
}

// §3.3: once TLS is on, the decoded PEM must be what Vector's OpenSSL can load.
TEST_F(ManifestTest, TlsPemContentIsChecked) {
  const pki::Bundle& pki = test_pki();
  const Manifests foobar = load(socket_tls("caFile: Zm9vYmFy\n"));  // base64 of "foobar"
  EXPECT_ERROR(foobar, "tls-pem-invalid", "spec.socket.tcp.tls.caFile");
  const std::string& message = find(foobar, "tls-pem-invalid")->message;
  EXPECT_NE(message.find("caFile"), std::string::npos) << message;
  EXPECT_NE(message.find("OpenSSL: "), std::string::npos) << message;
  EXPECT_NE(message.find("agent never starts"), std::string::npos) << message;
  EXPECT_EQ(find(foobar, "tls-pem-invalid")->line, 12);
  EXPECT_EQ(find(foobar, "tls-pem-invalid")->column, 17);
  EXPECT_EQ(foobar.destination("kuma"), nullptr);
  // A CA bundle may hold several certificates.
  EXPECT_CLEAN(load(socket_tls("caFile: " + b64(pki.ca.cert_pem + pki.server.cert_pem) + "\n")));
  // crtFile and keyFile, with the CA or alone (the system trust store).
  EXPECT_CLEAN(load(socket_tls("caFile: " + ca_base64() + "\n" + client_crt())));
  EXPECT_CLEAN(load(socket_tls(client_crt())));
  EXPECT_ERROR(load(socket_tls("clientCrt:\n  crtFile: Zm9vYmFy\n  keyFile: " + b64(pki.client.key_pem) + "\n")),
               "tls-pem-invalid", "spec.socket.tcp.tls.clientCrt.crtFile");
  EXPECT_ERROR(load(socket_tls(client_crt(pki.client.cert_pem))), "tls-pem-invalid",
               "spec.socket.tcp.tls.clientCrt.keyFile");
  // Kafka loads the same material.
  EXPECT_ERROR(load(kafka_cld("topic: t\nbootstrapServers: [k:9092]\ntls:\n  caFile: Zm9vYmFy\n")),
               "tls-pem-invalid", "spec.kafka.tls.caFile");
}

TEST_F(ManifestTest, TlsPemIsCheckedOnlyWhenTlsLoadsIt) {
  // TLS off: keyFile alone, or UDP.
  EXPECT_EQ(count(load(socket_tls("clientCrt:\n  keyFile: Zm9vYmFy\n")), "tls-pem-invalid"), 0u);
  EXPECT_FALSE(load(socket_cld("address: 127.0.0.1:5514\nmode: UDP\ntcp:\n  tls:\n    caFile: Zm9vYmFy\n"))
                   .has_errors());
  // A value that is not base64 is already empty, with its own warning.
  const Manifests bad = load(socket_tls("caFile: " + ca_base64() + "\n" + client_crt() + "  keyPass: not*base64\n"));
  EXPECT_FALSE(bad.has_errors()) << dump(bad);
  EXPECT_WARNING(bad, "base64-invalid", "spec.socket.tcp.tls.clientCrt.keyPass");
}

// An encrypted PKCS#8 key needs its keyPass (§3.3).
TEST_F(ManifestTest, EncryptedKeyNeedsTheRightKeyPass) {
  const std::string key = kumasim::testing::encrypted_key(test_pki().client.key_pem, "s3cret");
  const Manifests right = load(socket_tls(client_crt(key, "  keyPass: " + b64("s3cret") + "\n")));
  EXPECT_CLEAN(right);
  ASSERT_NE(right.destination("kuma"), nullptr);
  EXPECT_EQ(right.destination("kuma")->tls.key_pass, "s3cret");
  const Manifests wrong = load(socket_tls(client_crt(key, "  keyPass: " + b64("wrong") + "\n")));
  EXPECT_ERROR(wrong, "tls-pem-invalid", "spec.socket.tcp.tls.clientCrt.keyPass");
  EXPECT_NE(find(wrong, "tls-pem-invalid")->message.find("does not decrypt"), std::string::npos);
  const Manifests missing = load(socket_tls(client_crt(key)));
  EXPECT_ERROR(missing, "tls-pem-invalid", "spec.socket.tcp.tls.clientCrt.keyFile");
  EXPECT_NE(find(missing, "tls-pem-invalid")->message.find("keyPass is missing"), std::string::npos);
  const Manifests undecodable = load(socket_tls(client_crt(key, "  keyPass: not*base64\n")));
  EXPECT_ERROR(undecodable, "tls-pem-invalid", "spec.socket.tcp.tls.clientCrt.keyFile");
  EXPECT_WARNING(undecodable, "base64-invalid", "spec.socket.tcp.tls.clientCrt.keyPass");
}

TEST_F(ManifestTest, ClientKeyMustMatchTheCertificate) {
  const Manifests m = load(socket_tls(client_crt(test_pki().server.key_pem)));
  EXPECT_ERROR(m, "tls-key-mismatch", "spec.socket.tcp.tls.clientCrt.keyFile");
  EXPECT_EQ(count(m, "tls-pem-invalid"), 0u) << dump(m);
}

// ---------------------------------------------------------------- Kafka

TEST_F(ManifestTest, KafkaRequiredFieldsAndPattern) {
  EXPECT_ERROR(load(kafka_cld("bootstrapServers: [k:9092]\n")), "required", "spec.kafka.topic");
  EXPECT_ERROR(load(kafka_cld("topic: t\n")), "required", "spec.kafka.bootstrapServers");
  const Manifests m = load(kafka_cld("topic: t\nbootstrapServers: [k:9092, kafka, \"k:123456\"]\n"));
  EXPECT_ERROR(m, "pattern", "spec.kafka.bootstrapServers[1]");
  EXPECT_ERROR(m, "pattern", "spec.kafka.bootstrapServers[2]");
  EXPECT_EQ(count(m, "pattern"), 2u);
  const Manifests ok = load(kafka_cld("topic: logs-{{unit}}\nbootstrapServers: [a:1, b:9092]\nkeyField: host\n"));
  EXPECT_CLEAN(ok);
  const auto& kafka = std::get<KafkaSpec>(ok.destination("kuma")->transport);
  EXPECT_EQ(kafka.bootstrap_servers, (std::vector<std::string>{"a:1", "b:9092"}));
  EXPECT_EQ(kafka.key_field, "host");
  EXPECT_EQ(kafka.topic, "logs-{{unit}}");
}

// §3.5: the sasl trio and its mechanism enum; enabled only when all three are non-empty.
TEST_F(ManifestTest, KafkaSasl) {
  const std::string base = "topic: t\nbootstrapServers: [k:9092]\nsasl:\n";
  const Manifests incomplete = load(kafka_cld(base + "  mechanism: PLAIN\n  username: u\n"));
  EXPECT_ERROR(incomplete, "sasl-incomplete", "spec.kafka.sasl.password");
  EXPECT_ERROR(load(kafka_cld(base + "  mechanism: SCRAM-SHA-1\n  username: u\n  password: p\n")), "enum",
               "spec.kafka.sasl.mechanism");
  const Manifests ok = load(kafka_cld(base + "  mechanism: SCRAM-SHA-512\n  username: u\n  password: p@ss\n"));
  EXPECT_CLEAN(ok);
  const auto& sasl = std::get<KafkaSpec>(ok.destination("kuma")->transport).sasl;
  ASSERT_TRUE(sasl.has_value());
  EXPECT_EQ(sasl->mechanism, "SCRAM-SHA-512");
  EXPECT_EQ(sasl->password, "p@ss");  // plain text, not base64
  const Manifests empty = load(kafka_cld(base + "  mechanism: PLAIN\n  username: u\n  password: \"\"\n"));
  EXPECT_WARNING(empty, "sasl-not-enabled", "spec.kafka.sasl");
  EXPECT_FALSE(std::get<KafkaSpec>(empty.destination("kuma")->transport).sasl.has_value());
}

// ---------------------------------------------------------------- extraLabels

std::string labelled(const std::string& labels, const std::string& codec = "JSON") {
  return socket_cld("address: 127.0.0.1:5514\nmode: TCP\nencoding:\n  codec: " + codec + "\n",
                    "extraLabels:\n" + indent(labels, 2));
}

// §3.6: static values and `{{ path }}` templates with a path of 2+ characters.
TEST_F(ManifestTest, ExtraLabelValues) {
  const Manifests ok =
      load(labelled("user: \"{{ user.username }}\"\nns: \"{{ objectRef.namespace }}\"\n"
                    "esc: \"{{ pay\\\\.lo[3] }}\"\ncef.severity: \"1\"\nteam: d8_ops-1\n"));
  EXPECT_CLEAN(ok);
  const auto& labels = ok.destination("kuma")->extra_labels;
  EXPECT_EQ(labels.at("user"), "{{ user.username }}");
  EXPECT_EQ(labels.at("esc"), "{{ pay\\.lo[3] }}");
  EXPECT_EQ(labels.at("cef.severity"), "1");
  for (const std::string bad : {"{{ a }}", "{{a.b}}", "{{  a.b }}", "d8.io", "two words", "{{ a.b }} x", ""}) {
    EXPECT_ERROR(load(labelled("x: \"" + bad + "\"\n")), "extralabel-value-invalid", "spec.extraLabels.x");
  }
  EXPECT_ERROR(load(labelled("cef.severity: 1\n")), "type", "spec.extraLabels[\"cef.severity\"]");
  // The CRD pattern accepts these, but DKP's generator cannot make a VRL path of them.
  for (const std::string bad : {"{{ a[b }}", "{{ -ab }}"}) {
    EXPECT_ERROR(load(labelled("x: \"" + bad + "\"\n")), "extralabel-value-invalid", "spec.extraLabels.x");
  }
}

TEST_F(ManifestTest, ExtraLabelKeys) {
  for (const std::string key :
       {"pod", "pod_ip", "pod_owner", "parsed_data", "namespace", "image", "container", "node"}) {
    EXPECT_ERROR(load(labelled(key + ": x\n")), "extralabel-key-forbidden", "spec.extraLabels." + key);
  }
  EXPECT_ERROR(load(labelled("\"a/b\": x\n")), "extralabel-key-invalid", "spec.extraLabels[\"a/b\"]");
  EXPECT_ERROR(load(labelled("\"\": x\n")), "extralabel-key-invalid", "spec.extraLabels[\"\"]");
  EXPECT_CLEAN(load(labelled("pods: x\nnode-name: v\nx.y_z: w\n")));
}

// A key kubectl cannot make a JSON string of is named as such, not as an empty key.
TEST_F(ManifestTest, ExtraLabelKeyMustBeAString) {
  for (const std::string key : {"? [a, b]\n: x\n", "? {a: b}\n: x\n", "~: x\n"}) {
    const Manifests m = load(labelled(key + "ok: v\n", "CEF"));
    EXPECT_ERROR(m, "type", "spec.extraLabels");
    EXPECT_NE(find(m, "type", "spec.extraLabels")->message.find("must be a string"), std::string::npos);
    EXPECT_EQ(count(m, "extralabel-key-invalid") + count(m, "cef-extension-key-invalid"), 0u) << dump(m);
    EXPECT_EQ(m.diagnostics.size(), 1u) << dump(m);
  }
}

// §15.1: extraLabels nested in the transport object is pruned, with its own warning only.
TEST_F(ManifestTest, ExtraLabelsUnderTheTransport) {
  const Manifests socket = load(socket_cld("address: 127.0.0.1:5514\nmode: TCP\nextraLabels:\n  a: b\n"));
  EXPECT_WARNING(socket, "extralabels-under-socket", "spec.socket.extraLabels");
  EXPECT_EQ(count(socket, "pruned-field"), 0u);
  EXPECT_TRUE(socket.destination("kuma")->extra_labels.empty());
  const Manifests kafka = load(kafka_cld("topic: t\nbootstrapServers: [k:9092]\nextraLabels:\n  a: b\n"));
  EXPECT_WARNING(kafka, "extralabels-under-kafka", "spec.kafka.extraLabels");
}

// §5 and §10.3: with codec CEF each label is an extension key, letters only after normalization.
TEST_F(ManifestTest, CefExtensionKeys) {
  EXPECT_ERROR(load(labelled("env2: x\n", "CEF")), "cef-extension-key-invalid", "spec.extraLabels.env2");
  EXPECT_CLEAN(load(labelled("env2: x\n", "JSON")));
  EXPECT_ERROR(load(labelled("_: x\n", "CEF")), "cef-extension-key-invalid", "spec.extraLabels._");
  const Manifests cyrillic = load(labelled("среда: x\n", "CEF"));
  EXPECT_ERROR(cyrillic, "cef-extension-key-invalid", "spec.extraLabels[\"среда\"]");
  EXPECT_ERROR(cyrillic, "extralabel-key-invalid", "spec.extraLabels[\"среда\"]");
  EXPECT_CLEAN(load(labelled("cef.name: d8\ncef.severity: \"1\"\nhost_ip: x\n", "CEF")));
  EXPECT_ERROR(
      load(kafka_cld("topic: t\nbootstrapServers: [k:9092]\nencoding:\n  codec: CEF\n", "extraLabels:\n  env2: x\n")),
      "cef-extension-key-invalid", "spec.extraLabels.env2");
}

TEST_F(ManifestTest, CefExtensionKeyCollisions) {
  const Manifests labels = load(labelled("cef.name: a\ncefname: b\n", "CEF"));
  EXPECT_WARNING(labels, "cef-extension-key-collision", "spec.extraLabels[\"cef.name\"]");
  EXPECT_EQ(count(labels, "cef-extension-key-collision"), 1u);
  EXPECT_FALSE(labels.has_errors());
  const Manifests gen_c = load(labelled("host.ip: a\n", "CEF"));
  EXPECT_WARNING(gen_c, "cef-extension-key-collision", "spec.extraLabels[\"host.ip\"]");
  EXPECT_NE(find(gen_c, "cef-extension-key-collision")->message.find("gen-c"), std::string::npos);
  const Manifests gen_b = load(labelled("pod.ip: a\n", "CEF"));
  EXPECT_NE(find(gen_b, "cef-extension-key-collision")->message.find("gen-b"), std::string::npos);
  EXPECT_EQ(count(load(labelled("cef.name: a\ncefname: b\n", "JSON")), "cef-extension-key-collision"), 0u);
}

// ---------------------------------------------------------------- rateLimit and buffer

TEST_F(ManifestTest, RateLimit) {
  const auto limited = [](const std::string& body) {
    return socket_cld("address: 127.0.0.1:5514\nmode: TCP\n", "rateLimit:\n" + indent(body, 2));
  };
  EXPECT_ERROR(load(limited("keyField: host\n")), "required", "spec.rateLimit.linesPerMinute");
  EXPECT_ERROR(load(limited("linesPerMinute: 0\n")), "rate-limit-zero", "spec.rateLimit.linesPerMinute");
  EXPECT_ERROR(load(limited("linesPerMinute: -5\n")), "rate-limit-zero", "spec.rateLimit.linesPerMinute");
  const Manifests m =
      load(limited("linesPerMinute: 600\nkeyField: host\nexcludes:\n- field: parsed_data.verb\n"
                   "  operator: In\n  values: [get, 200]\n"));
  EXPECT_FALSE(m.has_errors()) << dump(m);
  EXPECT_WARNING(m, "filter-in-exact", "spec.rateLimit.excludes[0].operator");
  const auto& limit = m.destination("kuma")->rate_limit;
  ASSERT_TRUE(limit.has_value());
  EXPECT_EQ(limit->lines_per_minute, 600);
  EXPECT_EQ(limit->key_field, "host");
  ASSERT_EQ(limit->excludes.size(), 1u);
  EXPECT_EQ(limit->excludes[0].values, (std::vector<FilterValue>{std::string("get"), std::int64_t{200}}));
}

std::string buffered(const std::string& body) {
  return socket_cld("address: 127.0.0.1:5514\nmode: TCP\n", "buffer:\n" + indent(body, 2));
}

TEST_F(ManifestTest, BufferTypeAndWhenFull) {
  EXPECT_ERROR(load(buffered("whenFull: Block\n")), "required", "spec.buffer.type");
  EXPECT_ERROR(load(buffered("type: memory\n")), "enum", "spec.buffer.type");
  EXPECT_ERROR(load(buffered("type: Memory\nwhenFull: Drop\n")), "enum", "spec.buffer.whenFull");
  const Manifests m = load(buffered("type: Memory\nmemory:\n  maxEvents: 1000\nwhenFull: DropNewest\n"));
  EXPECT_CLEAN(m);
  const BufferSpec& b = m.destination("kuma")->buffer;
  EXPECT_EQ(b.type, BufferSpec::Type::memory);
  EXPECT_EQ(b.max_events, 1000u);
  EXPECT_EQ(b.when_full, BufferSpec::WhenFull::drop_newest);
  EXPECT_EQ(load(socket_cld()).destination("kuma")->buffer.max_events, 500u);
  EXPECT_ERROR(load(buffered("type: Memory\nmemory:\n  maxEvents: 0\n")), "minimum", "spec.buffer.memory.maxEvents");
  EXPECT_WARNING(load(buffered("type: Memory\ndisk:\n  maxSize: 1Gi\n")), "ignored-sub-object", "spec.buffer.disk");
}

// §3.6: disk.maxSize is a quantity of at least 268435488 bytes.
TEST_F(ManifestTest, DiskBufferSize) {
  const auto disk = [](const std::string& size) { return buffered("type: Disk\ndisk:\n  maxSize: " + size + "\n"); };
  const Manifests gi = load(disk("1Gi"));
  EXPECT_CLEAN(gi);
  EXPECT_EQ(gi.destination("kuma")->buffer.type, BufferSpec::Type::disk);
  EXPECT_EQ(gi.destination("kuma")->buffer.max_size, 1073741824u);
  EXPECT_EQ(load(disk("268435488")).destination("kuma")->buffer.max_size, 268435488u);
  EXPECT_EQ(load(disk("\"268435488\"")).destination("kuma")->buffer.max_size, 268435488u);
  EXPECT_ERROR(load(disk("256Mi")), "disk-max-size-minimum", "spec.buffer.disk.maxSize");  // 268435456
  EXPECT_ERROR(load(disk("268435487")), "disk-max-size-minimum", "spec.buffer.disk.maxSize");
  EXPECT_ERROR(load(disk("512MB")), "quantity", "spec.buffer.disk.maxSize");
  EXPECT_ERROR(load(disk("[1]")), "type", "spec.buffer.disk.maxSize");
  EXPECT_ERROR(load(buffered("type: Disk\n")), "required", "spec.buffer.disk.maxSize");
}

TEST(ManifestQuantity, KubernetesSuffixesAndRounding) {
  using detail::parse_quantity;
  const auto bytes = [](std::string_view text) {
    const auto parsed = parse_quantity(text);
    return std::holds_alternative<std::int64_t>(parsed) ? std::get<std::int64_t>(parsed) : -999;
  };
  EXPECT_EQ(bytes("0"), 0);
  EXPECT_EQ(bytes("1Ki"), 1024);
  EXPECT_EQ(bytes("1Mi"), 1048576);
  EXPECT_EQ(bytes("2Ti"), 2199023255552);
  EXPECT_EQ(bytes("1Ei"), 1152921504606846976);
  EXPECT_EQ(bytes("1k"), 1000);
  EXPECT_EQ(bytes("300M"), 300000000);
  EXPECT_EQ(bytes("1E"), 1000000000000000000);
  EXPECT_EQ(bytes("1.5Gi"), 1610612736);
  EXPECT_EQ(bytes(".5k"), 500);
  EXPECT_EQ(bytes("0.3k"), 300);
  EXPECT_EQ(bytes("1e3"), 1000);
  EXPECT_EQ(bytes("1E+6"), 1000000);
  EXPECT_EQ(bytes("1500m"), 2);  // rounded up, as Quantity.Value() does
  EXPECT_EQ(bytes("0.1"), 1);
  EXPECT_EQ(bytes("+5"), 5);
  EXPECT_EQ(bytes("-1Gi"), -1073741824);
  for (const std::string_view bad :
       {"", "Gi", "1GB", "1.2.3", "1 Gi", "1gi", "1e", "1e1.5", "16Ei", "99999999999999999999"}) {
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_quantity(bad))) << bad;
  }
}

// ---------------------------------------------------------------- ClusterLoggingConfig

TEST_F(ManifestTest, SourceTypeAndFile) {
  EXPECT_ERROR(load(clc("destinationRefs: [kuma]\nfile: {}\n")), "required", "spec.type");
  EXPECT_ERROR(load(clc("type: KubernetesPods\ndestinationRefs: [kuma]\n")), "unsupported", "spec.type");
  EXPECT_ERROR(load(clc("type: File\ndestinationRefs: [kuma]\n")), "one-of", "spec.file");
  EXPECT_ERROR(load(clc(kFileSpec + "kubernetesPods: {}\n")), "one-of", "spec.kubernetesPods");
  const Manifests m =
      load({socket_cld(), clc("type: File\nfile:\n  include: [/a/*.log, /b.log]\n  exclude: [/a/x.log]\n"
                              "  lineDelimiter: \"\\r\\n\"\ndestinationRefs: [kuma]\n")});
  EXPECT_CLEAN(m);
  ASSERT_EQ(m.sources.size(), 1u);
  const Source& s = m.sources[0];
  EXPECT_EQ(s.name, "audit");
  EXPECT_EQ(s.include, (std::vector<std::string>{"/a/*.log", "/b.log"}));
  EXPECT_EQ(s.exclude, std::vector<std::string>{"/a/x.log"});
  EXPECT_EQ(s.line_delimiter, "\r\n");
  EXPECT_EQ(load({socket_cld(), clc()}).sources[0].line_delimiter, "\n");
}

// An empty lineDelimiter passes the CRD, but Vector's file source cannot cut lines at it.
TEST_F(ManifestTest, LineDelimiterMustNotBeEmpty) {
  const Manifests m = load({socket_cld(), clc("type: File\nfile:\n  lineDelimiter: \"\"\ndestinationRefs: [kuma]\n")});
  EXPECT_ERROR(m, "min-length", "spec.file.lineDelimiter");
  EXPECT_NE(find(m, "min-length")->message.find("agent never starts"), std::string::npos);
  EXPECT_TRUE(m.sources.empty());
  EXPECT_EQ(find(m, "min-length")->line, 8);
}

TEST_F(ManifestTest, DestinationRefs) {
  EXPECT_ERROR(load(clc("type: File\nfile: {}\n")), "required", "spec.destinationRefs");
  EXPECT_ERROR(load(clc("type: File\nfile: {}\ndestinationRefs: []\n")), "min-items", "spec.destinationRefs");
  EXPECT_ERROR(load(clc("type: File\nfile: {}\ndestinationRefs: [{a: b}]\n")), "type", "spec.destinationRefs[0]");
}

// A repeated ref would send each event twice; DKP's sink inputs are a set, so it is ignored.
TEST_F(ManifestTest, DuplicateDestinationRefsAreDropped) {
  const Manifests m = load({socket_cld(), clc("type: File\nfile: {}\ndestinationRefs: [kuma, kuma, missing, kuma]\n")});
  EXPECT_WARNING(m, "duplicate-destination-ref", "spec.destinationRefs[1]");
  EXPECT_WARNING(m, "duplicate-destination-ref", "spec.destinationRefs[3]");
  EXPECT_EQ(count(m, "duplicate-destination-ref"), 2u);
  EXPECT_NE(find(m, "duplicate-destination-ref")->message.find("spec.destinationRefs[0]"), std::string::npos);
  EXPECT_FALSE(m.has_errors());
  ASSERT_EQ(m.sources.size(), 1u);
  EXPECT_EQ(m.sources[0].destination_refs, std::vector<std::string>{"kuma"});
  // The dangling one keeps its own index as written.
  EXPECT_WARNING(m, "dangling-destination-ref", "spec.destinationRefs[2]");
  EXPECT_EQ(find(m, "dangling-destination-ref")->column, 33);
}

TEST_F(ManifestTest, MultilineParser) {
  EXPECT_CLEAN(load({socket_cld(), clc(kFileSpec + "multilineParser:\n  type: None\n")}));
  EXPECT_ERROR(load(clc(kFileSpec + "multilineParser:\n  type: General\n")), "unsupported",
               "spec.multilineParser.type");
  EXPECT_ERROR(load(clc(kFileSpec + "multilineParser:\n  type: Sometimes\n")), "enum", "spec.multilineParser.type");
  EXPECT_ERROR(load(clc(kFileSpec + "multilineParser: {}\n")), "required", "spec.multilineParser.type");
}

// ---------------------------------------------------------------- filters

TEST_F(ManifestTest, FilterFields) {
  EXPECT_ERROR(load(clc(kFileSpec + "labelFilter:\n- field: \"\"\n  operator: Exists\n")), "label-filter-field-empty",
               "spec.labelFilter[0].field");
  EXPECT_ERROR(load(clc(kFileSpec + "labelFilter:\n- operator: Exists\n")), "required", "spec.labelFilter[0].field");
  EXPECT_ERROR(load(clc(log_filter("- operator: Exists\n"))), "required", "spec.logFilter[0].field");
  EXPECT_ERROR(load(clc(log_filter("- field: a\n"))), "required", "spec.logFilter[0].operator");
  EXPECT_ERROR(load(clc(log_filter("- field: a\n  operator: exists\n"))), "enum", "spec.logFilter[0].operator");
  const Manifests empty =
      load({socket_cld(), clc(log_filter("- field: \"\"\n  operator: Regex\n  values: [\"x.*\"]\n"))});
  EXPECT_CLEAN(empty);
  EXPECT_EQ(empty.sources[0].log_filter[0].field, "");
  const Manifests label = load(
      {socket_cld(), clc(kFileSpec + "labelFilter:\n- field: file\n  operator: Regex\n  values: [\".*audit.*\"]\n")});
  EXPECT_CLEAN(label);
  EXPECT_EQ(label.sources[0].label_filter[0].field, "file");
}

// §4: values empty for Exists/DoesNotExist, at least one otherwise.
TEST_F(ManifestTest, FilterValuesCardinality) {
  EXPECT_ERROR(load(clc(log_filter("- field: a\n  operator: Exists\n  values: [x]\n"))), "filter-values-cardinality",
               "spec.logFilter[0].values");
  EXPECT_ERROR(load(clc(log_filter("- field: a\n  operator: In\n"))), "filter-values-cardinality",
               "spec.logFilter[0].values");
  EXPECT_ERROR(load(clc(log_filter("- field: a\n  operator: NotRegex\n  values: []\n"))), "filter-values-cardinality",
               "spec.logFilter[0].values");
  EXPECT_FALSE(
      load({socket_cld(), clc(log_filter("- field: a\n  operator: DoesNotExist\n  values: []\n"))}).has_errors());
  // A mistyped field hides no other finding (`y` is a YAML 1.1 boolean).
  const Manifests typed = load(clc(log_filter("- {field: y, operator: In}\n")));
  EXPECT_ERROR(typed, "type", "spec.logFilter[0].field");
  EXPECT_ERROR(typed, "filter-values-cardinality", "spec.logFilter[0].values");
  const Manifests regex = load(clc(log_filter("- {field: [a], operator: Regex, values: [\"(\"]}\n")));
  EXPECT_ERROR(regex, "type", "spec.logFilter[0].field");
  EXPECT_ERROR(regex, "regex-invalid", "spec.logFilter[0].values[0]");
  const Manifests op = load(clc(kFileSpec + "labelFilter:\n- {field: \"\", operator: 5, values: [x]}\n"));
  EXPECT_ERROR(op, "type", "spec.labelFilter[0].operator");
  EXPECT_ERROR(op, "label-filter-field-empty", "spec.labelFilter[0].field");
}

// §7.3: values keep their YAML type; only integers and strings are allowed.
TEST_F(ManifestTest, FilterValuesKeepTheirType) {
  const Manifests m =
      load({socket_cld(), clc(log_filter("- field: code\n  operator: In\n  values: [200, \"200\", abc]\n"))});
  EXPECT_FALSE(m.has_errors()) << dump(m);
  EXPECT_EQ(m.sources[0].log_filter[0].values,
            (std::vector<FilterValue>{std::int64_t{200}, std::string("200"), std::string("abc")}));
  // YAML 1.1 integer forms, as kubectl reads them.
  const Manifests forms =
      load({socket_cld(), clc(log_filter("- field: a\n  operator: In\n  values: [0x10, 0o17, 017, 1_000, -3]\n"))});
  EXPECT_EQ(forms.sources.at(0).log_filter[0].values,
            (std::vector<FilterValue>{std::int64_t{16}, std::int64_t{15}, std::int64_t{15}, std::int64_t{1000},
                                      std::int64_t{-3}}));
  for (const std::string bad : {"true", "on", "1.5", "{a: 1}", "~"}) {
    EXPECT_ERROR(load(clc(log_filter("- field: a\n  operator: In\n  values: [" + bad + "]\n"))), "type",
                 "spec.logFilter[0].values[0]");
  }
}

// §15.3-§15.4: informational warnings on every In/NotIn and Exists/DoesNotExist.
TEST_F(ManifestTest, FilterSemanticsWarnings) {
  const Manifests m = load({socket_cld(), clc(log_filter("- field: a\n  operator: In\n  values: [x]\n"
                                                         "- field: a\n  operator: NotIn\n  values: [x]\n"
                                                         "- field: a\n  operator: Exists\n"
                                                         "- field: a\n  operator: DoesNotExist\n"
                                                         "- field: a\n  operator: Regex\n  values: [x]\n"))});
  EXPECT_FALSE(m.has_errors()) << dump(m);
  EXPECT_WARNING(m, "filter-in-exact", "spec.logFilter[0].operator");
  EXPECT_WARNING(m, "filter-in-exact", "spec.logFilter[1].operator");
  EXPECT_WARNING(m, "filter-exists-semantics", "spec.logFilter[2].operator");
  EXPECT_WARNING(m, "filter-exists-semantics", "spec.logFilter[3].operator");
  EXPECT_EQ(m.diagnostics.size(), 4u) << dump(m);
}

// §5 and §7.2: the field must be a valid VRL path.
TEST_F(ManifestTest, FilterPathMustBeValid) {
  EXPECT_ERROR(load(clc(log_filter("- field: annotations.authorization.k8s.io/decision\n  operator: Exists\n"))),
               "filter-path-invalid", "spec.logFilter[0].field");
  EXPECT_ERROR(load(clc(kFileSpec + "labelFilter:\n- field: a-b\n  operator: Exists\n")), "filter-path-invalid",
               "spec.labelFilter[0].field");
  EXPECT_FALSE(load({socket_cld(), clc(log_filter("- field: 'annotations.\"authorization.k8s.io/decision\"'\n"
                                                  "  operator: In\n  values: [allow]\n"))})
                   .has_errors());
}

// §5 and §7.4: regexes compile in the Rust dialect, and `'` is refused.
TEST_F(ManifestTest, FilterRegexMustCompile) {
  const Manifests m = load(clc(log_filter("- field: a\n  operator: Regex\n  values: [\"ok.*\", \"(\", \"it's\"]\n")));
  EXPECT_ERROR(m, "regex-invalid", "spec.logFilter[0].values[1]");
  EXPECT_ERROR(m, "regex-invalid", "spec.logFilter[0].values[2]");
  EXPECT_EQ(count(m, "regex-invalid"), 2u);
  EXPECT_ERROR(load(clc(kFileSpec + "labelFilter:\n- field: file\n  operator: NotRegex\n  values: [\"(?<=a)b\"]\n")),
               "regex-invalid", "spec.labelFilter[0].values[0]");
  EXPECT_FALSE(load({socket_cld(), clc(log_filter("- field: a\n  operator: In\n  values: [\"(\"]\n"))}).has_errors());
  // Rust syntax Vector accepts but RE2 cannot reproduce.
  const Manifests rust = load(clc(log_filter("- field: a\n  operator: Regex\n  values: ['[a[b]]']\n")));
  EXPECT_ERROR(rust, "regex-unsupported", "spec.logFilter[0].values[0]");
  EXPECT_NE(find(rust, "regex-unsupported")->message.find("cannot reproduce"), std::string::npos);
  // Findings keep the index of the value as written.
  const Manifests mixed = load(clc(log_filter("- field: a\n  operator: Regex\n  values: [true, \"(\"]\n")));
  EXPECT_ERROR(mixed, "type", "spec.logFilter[0].values[0]");
  EXPECT_ERROR(mixed, "regex-invalid", "spec.logFilter[0].values[1]");
}

// §7.4: a top-level `|` is anchored per alternative.
TEST_F(ManifestTest, RegexAlternationAnchoring) {
  const Manifests m =
      load({socket_cld(), clc(log_filter("- field: a\n  operator: Regex\n"
                                         "  values: [\"get|list\", \"(get|list)\", \"[|]x\", \"a\\\\|b\"]\n"))});
  EXPECT_FALSE(m.has_errors()) << dump(m);
  EXPECT_WARNING(m, "regex-alternation-anchoring", "spec.logFilter[0].values[0]");
  EXPECT_EQ(count(m, "regex-alternation-anchoring"), 1u) << dump(m);
}

TEST(ManifestRegexScan, TopLevelAlternation) {
  using detail::has_top_level_alternation;
  EXPECT_TRUE(has_top_level_alternation("a|b"));
  EXPECT_TRUE(has_top_level_alternation("(a)|b"));
  EXPECT_TRUE(has_top_level_alternation("[]|]|x"));
  EXPECT_FALSE(has_top_level_alternation("(a|b)"));
  EXPECT_FALSE(has_top_level_alternation("^(?:a|(b|c))$"));
  EXPECT_FALSE(has_top_level_alternation("[|]"));
  EXPECT_FALSE(has_top_level_alternation("[^]|]"));
  EXPECT_FALSE(has_top_level_alternation("[[:alpha:]|]"));
  EXPECT_FALSE(has_top_level_alternation(R"(a\|b)"));
  EXPECT_TRUE(has_top_level_alternation(R"(\(a|b\))"));  // escaped parens do not group
}

// ---------------------------------------------------------------- whole input

// §5: a later definition replaces an earlier one of the same kind and name.
TEST_F(ManifestTest, DuplicateNamesAreReplaced) {
  const Manifests m = load({socket_cld("address: 10.0.0.1:5514\nmode: TCP\n"),
                            socket_cld("address: 10.0.0.2:5514\nmode: UDP\n") + "---\n" + clc()});
  EXPECT_WARNING(m, "duplicate-name", "metadata.name");
  const Diagnostic& d = *find(m, "duplicate-name");
  EXPECT_EQ(d.document, 1);
  EXPECT_NE(d.message.find("m0.yaml document 1"), std::string::npos) << d.message;
  ASSERT_EQ(m.destinations.size(), 1u);
  EXPECT_EQ(std::get<SocketSpec>(m.destinations[0].transport).host, "10.0.0.2");
  // A CLD and a CLC may share a name.
  EXPECT_EQ(count(load({socket_cld("address: 1.1.1.1:10\nmode: TCP\n", "", "audit"), clc()}), "duplicate-name"), 0u);
}

TEST_F(ManifestTest, DuplicateWithErrorsKeepsTheEarlierOne) {
  const Manifests m =
      load({socket_cld("address: 10.0.0.1:5514\nmode: TCP\n"), socket_cld("address: bad\nmode: TCP\n")});
  EXPECT_WARNING(m, "duplicate-name", "metadata.name");
  EXPECT_NE(find(m, "duplicate-name")->message.find("replaces nothing"), std::string::npos);
  ASSERT_EQ(m.destinations.size(), 1u);
  EXPECT_EQ(std::get<SocketSpec>(m.destinations[0].transport).host, "10.0.0.1");
}

// §5: a ref to no ClusterLogDestination is warned about and removed.
TEST_F(ManifestTest, DanglingRefsAreRemoved) {
  const Manifests m = load({socket_cld(), clc("type: File\nfile: {}\ndestinationRefs: [kuma, missing, kuma2]\n"),
                            socket_cld("address: 1.1.1.1:10\nmode: TCP\n", "", "kuma2")});
  EXPECT_WARNING(m, "dangling-destination-ref", "spec.destinationRefs[1]");
  EXPECT_EQ(count(m, "dangling-destination-ref"), 1u);
  ASSERT_EQ(m.sources.size(), 1u);
  EXPECT_EQ(m.sources[0].destination_refs, (std::vector<std::string>{"kuma", "kuma2"}));
  EXPECT_EQ(find(m, "dangling-destination-ref")->line, 8);
}

// Findings come in file (input order), document and path order, indices by value.
TEST_F(ManifestTest, DiagnosticsAreSorted) {
  std::string filters;
  for (int i = 0; i < 11; ++i) filters += "- field: a\n  operator: Exists\n";
  const Manifests m = load({clc(log_filter(filters)), socket_cld("address: x\nmode: udp\n")});
  ASSERT_EQ(m.diagnostics.size(), 14u) << dump(m);
  EXPECT_EQ(m.diagnostics[0].path, "spec.destinationRefs[0]");
  EXPECT_EQ(m.diagnostics[1].path, "spec.logFilter[0].operator");
  EXPECT_EQ(m.diagnostics[3].path, "spec.logFilter[2].operator");
  EXPECT_EQ(m.diagnostics[11].path, "spec.logFilter[10].operator");
  EXPECT_EQ(m.diagnostics[12].path, "spec.socket.address");
  EXPECT_EQ(m.diagnostics[13].path, "spec.socket.mode");
}

TEST(ManifestDiagnostic, ToStringFormat) {
  Diagnostic d{Diagnostic::Severity::warning, "udp-large-events", "kuma.yaml", 2, "spec.socket.mode", 9, 11, "big"};
  EXPECT_EQ(to_string(d),
            "kuma.yaml: document 2: spec.socket.mode: warning[udp-large-events]: big (line 9, column 11)");
  Diagnostic file_level{Diagnostic::Severity::error, "file-unreadable", "x.yaml", 0, "", 0, 0, "gone"};
  EXPECT_EQ(to_string(file_level), "x.yaml: error[file-unreadable]: gone");
}

}  // namespace
}  // namespace kumasim::shipper
