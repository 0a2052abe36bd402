// Scenario files (simulator/scenario/scenario_file.h, docs/scenarios.md): a
// full example into the model, then one test per rule, each checking that the
// error names the line and column, the field path and the rule.
#include "simulator/scenario/scenario_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <source_location>

namespace kumasim::scenario {
namespace {

namespace fs = std::filesystem;
using formats::Transport;
using nlohmann::json;

// Lines 1-5: a listener and the bundled shipper; then input (6-7) and expect (8-9).
const std::string kListenersShipper =
    "listeners:\n"
    "  kuma: tcp://127.0.0.1:0?codec=cef\n"
    "shipper:\n"
    "  manifests:\n"
    "    - file: ../fixtures/manifest.yaml\n";
const std::string kInput =
    "input:\n"
    "  file: ../fixtures/audit.log\n";
const std::string kExpect =
    "expect:\n"
    "  events: [{count: {min: 1}}]\n";
const std::string kBase = kListenersShipper + kInput + kExpect;  // 9 lines

class ScenarioFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("kumasim-scenario-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "scenarios");
    fs::create_directories(dir_ / "fixtures");
    std::string audit;
    for (int i = 1; i <= 10; ++i) {
      audit += R"({"kind":"Event","auditID":")" + std::to_string(i) + R"(","userAgent":"kubelet/v1.30"})" + "\n";
    }
    write("fixtures/audit.log", audit);
    write("fixtures/manifest.yaml",
          "apiVersion: deckhouse.io/v1alpha1\n"
          "kind: ClusterLogDestination\n"
          "spec:\n"
          "  socket:\n"
          "    address: IP_ADDRESS:PORT # Replace as needed.\n"
          "    mode: TCP\n");
    write("fixtures/ca.pem", "pem");
    write("fixtures/server.pem", "pem");
    write("fixtures/server-key.pem", "pem");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& relative, const std::string& text) { std::ofstream(dir_ / relative) << text; }
  std::string file() const { return (dir_ / "scenarios" / "tcp-cef.yaml").string(); }
  std::string fixture(const std::string& name) const { return (dir_ / "fixtures" / name).string(); }

  std::variant<Scenario, std::string> parse(const std::string& yaml) { return parse_scenario(yaml, file()); }
  Scenario ok(const std::string& yaml) {
    auto result = parse(yaml);
    if (auto* error = std::get_if<std::string>(&result)) {
      ADD_FAILURE() << *error << "\n" << yaml;
      return {};
    }
    return std::get<Scenario>(std::move(result));
  }
  std::string error(const std::string& yaml) {
    auto result = parse(yaml);
    if (std::holds_alternative<Scenario>(result)) {
      ADD_FAILURE() << "accepted:\n" << yaml;
      return {};
    }
    const auto message = std::get<std::string>(result);
    EXPECT_EQ(message.find('\n'), std::string::npos) << "one line: " << message;
    return message;
  }
  // The error is "FILE:PLACE: TEXT..." where TEXT starts with `what` (field path: rule).
  void expect_error(const std::string& yaml, const std::string& place, const std::string& what,
                    const std::source_location caller = std::source_location::current()) {
    SCOPED_TRACE("expect_error at line " + std::to_string(caller.line()));
    const auto message = error(yaml);
    const std::string prefix = file() + ":" + place + ": ";
    EXPECT_EQ(message.substr(0, prefix.size()), prefix) << message;
    EXPECT_NE(message.find(what, prefix.size()), std::string::npos) << message << "\nexpected: " << what;
  }

  fs::path dir_;
};

// ------------------------------------------------------------ the model ----

TEST_F(ScenarioFileTest, FullExampleFillsEveryField) {
  const auto s = ok(R"(name: full-example
description: every key
timeout: 45s
listeners:
  kuma: tcp://127.0.0.1:0?codec=cef&name=kuma
  secure:
    transport: tls
    codec: json
    tls: {mode: verify}
  mtls:
    transport: tls
    address: 127.0.0.1:0
    framing: rfc6587
    tls: {mode: verify, cert: ../fixtures/server.pem, key: ../fixtures/server-key.pem, ca: ../fixtures/ca.pem}
  bus:
    transport: kafka
    topic: k8s-logs
    brokers: 3
    codec: json
  dgram:
    transport: udp
    address: "[::1]:0"
    buffer: 32KiB
shipper:
  manifests:
    - file: ../fixtures/manifest.yaml
      replace: {"IP_ADDRESS:PORT": "${listener.kuma.address}", "mode: TCP": "mode: TCP"}
    - inline: |
        apiVersion: deckhouse.io/v1alpha1
        kind: ClusterLogDestination
        spec: {socket: {address: "${listener.secure.address}", caFile: "${listener.secure.ca_base64}"}}
  args: [--timezone, "+03:00", --node-name, "${sandbox}"]
input:
  - file: ../fixtures/audit.log
    pace: rate
    rate: 500
    limit: 8
    repeat: 3
    rotate_after: [5, 20]
  - file: ../fixtures/audit.log
    pace: recorded
    speed: 2.5
faults:
  - at: {events: 100, listener: kuma}
    action: drop_connections
    listener: kuma
  - at: {time: 2s, bytes: 1000}
    action: refuse_connections
    listener: secure
    for: 1500ms
  - at: {bytes: 64KiB}
    action: slow_reader
    listener: kuma
    for: 1m
    bytes_per_second: 1KiB
  - at: {lines: 12}
    action: fail_tls_handshakes
    listener: mtls
    for: 3s
  - at: {time: 500}
    action: kafka_broker_down
    listener: bus
    broker: 2
  - at: {time: 3s}
    action: kafka_broker_up
    listener: bus
  - at: {lines: 20}
    action: restart_shipper
  - at: {lines: 34}
    action: kill_shipper
expect:
  events:
    expectations:
      - name: kuma got some
        where: {field: listener, equals: kuma}
        count: {min: 1, max: 1000}
        every: [{field: kuma.Severity, equals: "5"}, {field: size, gt: 0}]
  delivered:
    - name: kubelet lines
      listener: kuma
      select: [{field: userAgent, regex: "^kubelet"}]
      duplicates: 2
      in_order: true
      content: kuma.Extra.message
    - listener: secure
  latency:
    - {name: p99, listener: kuma, percentile: 99.5, max: 2s}
    - {max: 1m}
  shipper: {exit: 0, summary: {read: 832, "destinations.0.sent": {min: 1}, mode: text}}
)");
  EXPECT_EQ(s.path, file());
  EXPECT_EQ(s.name, "full-example");
  EXPECT_EQ(s.description, "every key");
  EXPECT_EQ(s.timeout, Duration(45000));

  ASSERT_EQ(s.listeners.size(), 5u);
  const auto& kuma = s.listeners[0];
  EXPECT_EQ(kuma.config.name, "kuma");
  EXPECT_EQ(kuma.config.transport, Transport::tcp);
  EXPECT_EQ(kuma.config.codec, formats::Codec::cef);
  EXPECT_EQ(kuma.config.host, "127.0.0.1");
  EXPECT_EQ(kuma.config.port, 0);
  EXPECT_FALSE(kuma.tls_auto);
  const auto& secure = s.listeners[1];
  EXPECT_EQ(secure.config.name, "secure");
  EXPECT_EQ(secure.config.transport, Transport::tls);
  EXPECT_EQ(secure.config.codec, formats::Codec::json);
  EXPECT_TRUE(secure.tls_auto);
  EXPECT_EQ(secure.config.tls.mode, tls::TlsMode::verify);
  EXPECT_EQ(secure.config.tls.cert_file, "");  // the runner's PKI fills them in
  EXPECT_EQ(secure.config.tls.key_file, "");
  EXPECT_EQ(secure.config.tls.ca_file, "");
  const auto& mtls = s.listeners[2];
  EXPECT_FALSE(mtls.tls_auto);
  EXPECT_EQ(mtls.config.framing, formats::FramingMode::octet);
  EXPECT_EQ(mtls.config.tls.cert_file, fixture("server.pem"));
  EXPECT_EQ(mtls.config.tls.key_file, fixture("server-key.pem"));
  EXPECT_EQ(mtls.config.tls.ca_file, fixture("ca.pem"));
  const auto& bus = s.listeners[3];
  EXPECT_EQ(bus.config.transport, Transport::kafka);
  EXPECT_EQ(bus.config.topic, "k8s-logs");
  EXPECT_EQ(bus.config.brokers, 3);
  const auto& dgram = s.listeners[4];
  EXPECT_EQ(dgram.config.transport, Transport::udp);
  EXPECT_EQ(dgram.config.host, "::1");
  EXPECT_EQ(dgram.config.buffer, 32768u);

  ASSERT_EQ(s.shipper.manifests.size(), 2u);
  EXPECT_EQ(s.shipper.manifests[0].file, fixture("manifest.yaml"));
  EXPECT_EQ(s.shipper.manifests[0].inline_text, "");
  const std::vector<std::pair<std::string, std::string>> replace{{"IP_ADDRESS:PORT", "${listener.kuma.address}"},
                                                                 {"mode: TCP", "mode: TCP"}};
  EXPECT_EQ(s.shipper.manifests[0].replace, replace);
  EXPECT_EQ(s.shipper.manifests[1].file, "");
  EXPECT_EQ(s.shipper.manifests[1].inline_text,
            "apiVersion: deckhouse.io/v1alpha1\nkind: ClusterLogDestination\n"
            "spec: {socket: {address: \"${listener.secure.address}\", caFile: \"${listener.secure.ca_base64}\"}}\n");
  EXPECT_EQ(s.shipper.args, (std::vector<std::string>{"--timezone", "+03:00", "--node-name", "${sandbox}"}));
  EXPECT_TRUE(s.shipper.command.empty());
  EXPECT_TRUE(s.shipper.files.empty());
  EXPECT_FALSE(s.shipper.none);

  ASSERT_EQ(s.input.size(), 2u);
  EXPECT_EQ(s.input[0].file, fixture("audit.log"));
  EXPECT_EQ(s.input[0].pace, InputSpec::Pace::rate);
  EXPECT_EQ(s.input[0].rate, 500);
  EXPECT_EQ(s.input[0].limit, 8u);
  EXPECT_EQ(s.input[0].repeat, 3u);
  EXPECT_EQ(s.input[0].rotate_after, (std::vector<std::uint64_t>{5, 20}));
  EXPECT_EQ(s.input[1].pace, InputSpec::Pace::recorded);
  EXPECT_EQ(s.input[1].speed, 2.5);
  EXPECT_EQ(s.input[1].limit, 0u);
  EXPECT_EQ(s.input[1].repeat, 1u);

  ASSERT_EQ(s.faults.size(), 8u);
  using A = FaultSpec::Action;
  EXPECT_EQ(s.faults[0].action, A::drop_connections);
  EXPECT_EQ(s.faults[0].at.events, 100u);
  EXPECT_EQ(s.faults[0].at.listener, "kuma");
  EXPECT_EQ(s.faults[0].listener, "kuma");
  EXPECT_EQ(s.faults[1].action, A::refuse_connections);
  EXPECT_EQ(s.faults[1].at.time, Duration(2000));
  EXPECT_EQ(s.faults[1].at.bytes, 1000u);
  EXPECT_FALSE(s.faults[1].at.events.has_value());
  EXPECT_EQ(s.faults[1].duration, Duration(1500));
  EXPECT_EQ(s.faults[2].action, A::slow_reader);
  EXPECT_EQ(s.faults[2].at.bytes, 65536u);
  EXPECT_EQ(s.faults[2].duration, Duration(60000));
  EXPECT_EQ(s.faults[2].bytes_per_second, 1024u);
  EXPECT_EQ(s.faults[3].action, A::fail_tls_handshakes);
  EXPECT_EQ(s.faults[3].at.lines, 12u);
  EXPECT_EQ(s.faults[3].listener, "mtls");
  EXPECT_EQ(s.faults[4].action, A::kafka_broker_down);
  EXPECT_EQ(s.faults[4].at.time, Duration(500));
  EXPECT_EQ(s.faults[4].broker, 2);
  EXPECT_EQ(s.faults[5].action, A::kafka_broker_up);
  EXPECT_EQ(s.faults[5].broker, 1);
  EXPECT_EQ(s.faults[6].action, A::restart_shipper);
  EXPECT_EQ(s.faults[6].listener, "");
  EXPECT_EQ(s.faults[7].action, A::kill_shipper);

  EXPECT_EQ(s.expect.events, json::parse(R"({"expectations": [{"name": "kuma got some",
      "where": {"field": "listener", "equals": "kuma"}, "count": {"min": 1, "max": 1000},
      "every": [{"field": "kuma.Severity", "equals": "5"}, {"field": "size", "gt": 0}]}]})"));
  ASSERT_EQ(s.expect.delivered.size(), 2u);
  EXPECT_EQ(s.expect.delivered[0].name, "kubelet lines");
  EXPECT_EQ(s.expect.delivered[0].listener, "kuma");
  EXPECT_EQ(s.expect.delivered[0].select, json::parse(R"([{"field": "userAgent", "regex": "^kubelet"}])"));
  EXPECT_EQ(s.expect.delivered[0].duplicates, 2u);
  EXPECT_TRUE(s.expect.delivered[0].in_order);
  EXPECT_EQ(s.expect.delivered[0].content, "kuma.Extra.message");
  EXPECT_EQ(s.expect.delivered[1].name, "expect.delivered[1]");
  EXPECT_EQ(s.expect.delivered[1].listener, "secure");
  EXPECT_TRUE(s.expect.delivered[1].select.is_null());
  EXPECT_FALSE(s.expect.delivered[1].in_order);
  EXPECT_EQ(s.expect.delivered[1].content, "");
  ASSERT_EQ(s.expect.latency.size(), 2u);
  EXPECT_EQ(s.expect.latency[0].name, "p99");
  EXPECT_EQ(s.expect.latency[0].listener, "kuma");
  EXPECT_EQ(s.expect.latency[0].percentile, 99.5);
  EXPECT_EQ(s.expect.latency[0].max, Duration(2000));
  EXPECT_EQ(s.expect.latency[1].name, "expect.latency[1]");
  EXPECT_EQ(s.expect.latency[1].percentile, 99);
  EXPECT_EQ(s.expect.latency[1].max, Duration(60000));
  ASSERT_TRUE(s.expect.shipper.has_value());
  EXPECT_EQ(s.expect.shipper->exit, 0);
  ASSERT_EQ(s.expect.shipper->summary.size(), 3u);
  EXPECT_EQ(s.expect.shipper->summary[0], (std::pair<std::string, json>{"read", 832}));
  EXPECT_EQ(s.expect.shipper->summary[1], (std::pair<std::string, json>{"destinations.0.sent", {{"min", 1}}}));
  EXPECT_EQ(s.expect.shipper->summary[2], (std::pair<std::string, json>{"mode", "text"}));
}

TEST_F(ScenarioFileTest, DefaultsOfAMinimalScenario) {
  const auto s = ok(kBase);
  EXPECT_EQ(s.name, "tcp-cef");  // the file's stem
  EXPECT_EQ(s.description, "");
  EXPECT_EQ(s.timeout, Duration(60000));
  ASSERT_EQ(s.input.size(), 1u);  // a single map is a list of one
  EXPECT_EQ(s.input[0].pace, InputSpec::Pace::all);
  EXPECT_EQ(s.input[0].speed, 1);
  EXPECT_TRUE(s.faults.empty());
  EXPECT_EQ(s.expect.events, json::parse(R"([{"count": {"min": 1}}])"));
  EXPECT_TRUE(s.expect.delivered.empty());
  EXPECT_FALSE(s.expect.shipper.has_value());
}

TEST_F(ScenarioFileTest, LoadScenarioReadsTheFileAndResolvesAgainstItsFolder) {
  write("scenarios/tcp-cef.yaml", kBase);
  auto result = load_scenario(file());
  ASSERT_TRUE(std::holds_alternative<Scenario>(result)) << std::get<std::string>(result);
  const auto& s = std::get<Scenario>(result);
  EXPECT_EQ(s.shipper.manifests[0].file, fixture("manifest.yaml"));
  EXPECT_EQ(s.input[0].file, fixture("audit.log"));
  // An absolute path is taken as it is.
  auto absolute = kBase;
  absolute.replace(absolute.find("../fixtures/audit.log"), 21, fixture("audit.log"));
  EXPECT_EQ(ok(absolute).input[0].file, fixture("audit.log"));
}

TEST_F(ScenarioFileTest, LoadScenarioOfAMissingFile) {
  const auto missing = (dir_ / "scenarios" / "nope.yaml").string();
  auto result = load_scenario(missing);
  ASSERT_TRUE(std::holds_alternative<std::string>(result));
  EXPECT_EQ(std::get<std::string>(result), missing + ": cannot read the file");
}

TEST_F(ScenarioFileTest, NullValuesAreAbsent) {
  const auto s = ok(kBase + "faults:\ndescription: ~\n");
  EXPECT_TRUE(s.faults.empty());
  EXPECT_EQ(s.description, "");
}

// ----------------------------------------------------------------- YAML ----

TEST_F(ScenarioFileTest, YamlSyntaxErrorNamesThePlace) {
  expect_error("listeners:\n  kuma: [tcp\nshipper: {}\n", "3:8", "YAML syntax: ");
}

TEST_F(ScenarioFileTest, OneDocumentPerFile) {
  expect_error(kBase + "---\nname: x\n", "10:1", "one scenario per file: a second YAML document");
}

TEST_F(ScenarioFileTest, EmptyFile) {
  expect_error("", "1:1", "the file is empty");
  expect_error("# only a comment\n", "1:1", "the file is empty");
}

TEST_F(ScenarioFileTest, StrayCommaDoesNotHang) {  // yaml-cpp 0.7 loops forever on it unless guarded
  const auto message = error(",\n");
  EXPECT_NE(message.find("YAML syntax"), std::string::npos) << message;
}

TEST_F(ScenarioFileTest, UnknownTopLevelKeyIsAnError) {
  expect_error(kBase + "timout: 30s\n", "10:1",
               "timout: unknown key (name, description, timeout, run_for, listeners, shipper, input, faults, expect)");
}

TEST_F(ScenarioFileTest, RepeatedKeyIsAnError) {
  expect_error(kBase + "timeout: 1s\ntimeout: 2s\n", "11:1", "timeout: repeated key");
}

TEST_F(ScenarioFileTest, TopLevelMustBeAMap) {
  expect_error("- a\n- b\n", "1:1", "expected a map (name, description");
}

TEST_F(ScenarioFileTest, Name) {
  expect_error("name: \"\"\n" + kBase, "1:7", "name: is empty");
  expect_error("name: a/b\n" + kBase, "1:7", "name: \"a/b\" is one line without '/'");
}

// ------------------------------------------------------------ durations ----

TEST_F(ScenarioFileTest, Durations) {
  EXPECT_EQ(parse_duration("500ms"), Duration(500));
  EXPECT_EQ(parse_duration("2s"), Duration(2000));
  EXPECT_EQ(parse_duration("1.5s"), Duration(1500));
  EXPECT_EQ(parse_duration("1m"), Duration(60000));
  EXPECT_EQ(parse_duration("1h"), Duration(3600000));
  EXPECT_EQ(parse_duration("250"), Duration(250));
  EXPECT_EQ(parse_duration("0"), Duration(0));
  for (const char* bad : {"", "s", "5 sec", "5S", "-1s", "1.s", ".5s", "1e3ms", "2d", "1,5s"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
  EXPECT_EQ(ok("timeout: 1500\n" + kBase).timeout, Duration(1500));
  expect_error("timeout: 5 sec\n" + kBase, "1:10",
               "timeout: expected a duration, got a string \"5 sec\" (an integer of milliseconds, or a number with "
               "ms, s, m or h: \"500ms\", \"2s\", \"1m\")");
  expect_error("timeout: 0s\n" + kBase, "1:10", "timeout: must be longer than 0");
  expect_error("timeout: [1s]\n" + kBase, "1:10", "timeout: expected a duration, got a list");
}

// ------------------------------------------------------------ listeners ----

TEST_F(ScenarioFileTest, ListenersAreRequired) {
  expect_error("shipper: {none: true}\nexpect: {events: [{count: {min: 1}}]}\n", "1:1",
               "listeners: required: a map of NAME: listener");
  expect_error("listeners: {}\nshipper: {none: true}\n", "1:12", "listeners: give at least one listener");
  expect_error("listeners: [tcp://127.0.0.1:0]\nshipper: {none: true}\n", "1:12",
               "listeners: expected a map of NAME: listener");
}

TEST_F(ScenarioFileTest, ListenerNameIsTheKey) {
  const auto s = ok("listeners:\n  kuma: tcp://127.0.0.1:0?name=kuma\n  b: {name: b}\n" + kBase.substr(kBase.find("shipper")));
  EXPECT_EQ(s.listeners[0].config.name, "kuma");
  EXPECT_EQ(s.listeners[1].config.name, "b");
  expect_error("listeners:\n  kuma: tcp://127.0.0.1:0?codec=cef&name=other\n", "2:9",
               "listeners.kuma: name=other differs from the listener's key \"kuma\"");
  expect_error("listeners:\n  kuma: {name: other}\n", "2:16",
               "listeners.kuma.name: \"other\" differs from the listener's key \"kuma\"");
  expect_error("listeners:\n  kuma.1: tcp://127.0.0.1:0\n", "2:3",
               "listeners[\"kuma.1\"]: a listener name is letters, digits, '_' and '-'");
}

TEST_F(ScenarioFileTest, ListenerUrlErrorsComeFromTheListenerParser) {
  expect_error("listeners:\n  kuma: tcp://127.0.0.1:0?codec=cef2\n", "2:9",
               "listeners.kuma: listener \"tcp://127.0.0.1:0?codec=cef2\": codec \"cef2\" is not json, cef,");
  expect_error("listeners:\n  kuma: ftp://127.0.0.1:0\n", "2:9", "unknown transport \"ftp\"");
  expect_error("listeners:\n  kuma: 5\n", "2:9", "listeners.kuma: listener \"5\": expected TRANSPORT://HOST:PORT");
  expect_error("listeners:\n  kuma:\n", "2:3", "listeners.kuma: expected a listener URL");
}

TEST_F(ScenarioFileTest, ListenersUseEphemeralLoopbackPorts) {
  expect_error("listeners:\n  kuma: tcp://127.0.0.1:5140?codec=cef\n", "2:9",
               "listeners.kuma: port 5140: scenarios use ephemeral ports: use port 0");
  expect_error("listeners:\n  kuma:\n    address: 127.0.0.1:5140\n", "3:14",
               "listeners.kuma.address: port 5140: scenarios use ephemeral ports: use port 0");
  expect_error("listeners:\n  kuma: udp://0.0.0.0:0\n", "2:9",
               "listeners.kuma: host \"0.0.0.0\": scenarios listen on loopback (127.0.0.1 or [::1])");
  EXPECT_EQ(ok("listeners:\n  kuma: udp://:0\n" + kBase.substr(kBase.find("shipper"))).listeners[0].config.host,
            "127.0.0.1");
}

TEST_F(ScenarioFileTest, ListenerMapForm) {
  const auto s = ok("listeners:\n  kuma:\n    codec: syslog\n    delimiter: nul\n    buffer: 2MiB\n" +
                    kBase.substr(kBase.find("shipper")));
  const auto& c = s.listeners[0].config;
  EXPECT_EQ(c.transport, Transport::tcp);  // the default transport
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 0);
  EXPECT_EQ(c.codec, formats::Codec::syslog);
  EXPECT_EQ(c.delimiter, '\0');
  EXPECT_EQ(c.buffer, 2u * 1024 * 1024);
  expect_error("listeners:\n  kuma:\n    codek: cef\n", "3:5",
               "listeners.kuma.codek: unknown key (name, transport, address, codec, delimiter, framing, buffer,");
  // An error of the listener parser points at the key it is about.
  expect_error("listeners:\n  kuma:\n    codec: cef\n    framing: octets\n", "4:14",
               "listeners.kuma.framing: framing \"octets\" is not kuma, rfc6587 or auto");
  expect_error("listeners:\n  kuma:\n    transport: sctp\n", "3:16",
               "listeners.kuma.transport: unknown transport \"sctp\" (tcp, udp, tls, kafka)");
  expect_error("listeners:\n  kuma:\n    buffer: lots\n", "3:13", "listeners.kuma.buffer: expected a size");
  expect_error("listeners:\n  kuma:\n    transport: udp\n    framing: rfc6587\n", "4:14",
               "listeners.kuma.framing: framing applies to tcp and tls only");
  expect_error("listeners:\n  kuma:\n    tls: auto\n", "3:10",
               "listeners.kuma.tls: applies to tls and kafka listeners (this one is tcp)");
}

TEST_F(ScenarioFileTest, TlsAuto) {
  const std::string rest = kBase.substr(kBase.find("shipper"));
  for (const std::string listener : {"tls://127.0.0.1:0?codec=cef", "{transport: tls}", "{transport: tls, tls: auto}",
                                     "{transport: tls, tls: {mode: encrypt}}"}) {
    const auto s = ok("listeners:\n  kuma: " + listener + "\n" + rest);
    EXPECT_TRUE(s.listeners[0].tls_auto) << listener;
    EXPECT_EQ(s.listeners[0].config.tls.mode, tls::TlsMode::encrypt) << listener;
    EXPECT_EQ(s.listeners[0].config.tls.cert_file, "") << listener;
  }
  for (const std::string listener : {"tls://127.0.0.1:0?mode=verify", "{transport: tls, tls: {mode: verify}}"}) {
    const auto s = ok("listeners:\n  kuma: " + listener + "\n" + rest);
    EXPECT_TRUE(s.listeners[0].tls_auto) << listener;
    EXPECT_EQ(s.listeners[0].config.tls.mode, tls::TlsMode::verify) << listener;
    EXPECT_EQ(s.listeners[0].config.tls.ca_file, "") << listener;
  }
  expect_error("listeners:\n  kuma: {transport: tls, tls: auto, cert: ../fixtures/server.pem}\n", "2:31",
               "listeners.kuma.tls: auto makes cert, key and ca for the run: drop them, or drop auto");
  expect_error("listeners:\n  kuma: {transport: tls, tls: on}\n", "2:31",
               "listeners.kuma.tls: expected auto, or a map {mode: encrypt|verify, cert, key, ca}");
  expect_error("listeners:\n  kuma: {transport: tls, tls: {mode: check}}\n", "2:38",
               "listeners.kuma.tls.mode: mode \"check\" is not encrypt or verify");
  expect_error("listeners:\n  kuma: {transport: tls, tls: {cert: ../fixtures/server.pem}}\n", "2:31",
               "listeners.kuma.tls: tls needs cert and key");
}

TEST_F(ScenarioFileTest, TlsFilesResolveAgainstTheScenarioAndMustExist) {
  const std::string rest = kBase.substr(kBase.find("shipper"));
  const auto s =
      ok("listeners:\n  kuma: tls://127.0.0.1:0?cert=../fixtures/server.pem&key=../fixtures/server-key.pem\n" + rest);
  EXPECT_FALSE(s.listeners[0].tls_auto);
  EXPECT_EQ(s.listeners[0].config.tls.cert_file, fixture("server.pem"));
  EXPECT_EQ(s.listeners[0].config.tls.key_file, fixture("server-key.pem"));
  expect_error("listeners:\n  kuma:\n    transport: tls\n    tls: {cert: ../fixtures/server.pem, key: nope.pem}\n",
               "4:46",
               "listeners.kuma.tls.key: no such file \"nope.pem\" (" + (dir_ / "scenarios" / "nope.pem").string() +
                   ") (relative paths are resolved against the scenario's folder)");
  expect_error("listeners:\n  kuma: tls://127.0.0.1:0?cert=../fixtures/server.pem&key=missing.pem\n", "2:9",
               "listeners.kuma: no such file \"missing.pem\"");
}

TEST_F(ScenarioFileTest, KafkaListener) {
  const std::string rest = kBase.substr(kBase.find("shipper"));
  const auto s = ok("listeners:\n  bus: {transport: kafka, topic: t1, partitions: 2, embedded: true}\n" + rest);
  EXPECT_EQ(s.listeners[0].config.transport, Transport::kafka);
  EXPECT_EQ(s.listeners[0].config.partitions, 2);
  expect_error("listeners:\n  bus: {transport: kafka, topic: \"bad topic\"}\n", "2:34",
               "listeners.bus.topic: topic \"bad topic\" is not 1-255 characters");
  expect_error("listeners:\n  bus: {transport: kafka, brokers: 17}\n", "2:36", "listeners.bus.brokers: brokers \"17\" is not 1-16");
  expect_error("listeners:\n  bus: {transport: kafka, embedded: yes}\n", "2:37",
               "listeners.bus.embedded: expected true or false, got a string \"yes\" (YAML 1.2: yes/no/on/off are strings)");
}

// -------------------------------------------------------------- shipper ----

TEST_F(ScenarioFileTest, ShipperIsRequired) {
  expect_error("listeners:\n  kuma: tcp://127.0.0.1:0\n" + kInput + kExpect, "1:1",
               "shipper.manifests: give at least one manifest, or command, or none: true");
  expect_error("listeners:\n  kuma: tcp://127.0.0.1:0\nshipper: {}\n", "3:10",
               "shipper.manifests: give at least one manifest, or command, or none: true");
  expect_error("listeners:\n  kuma: tcp://127.0.0.1:0\nshipper: {manifests: []}\n", "3:22",
               "shipper.manifests: give at least one manifest, or command, or none: true");
  expect_error("listeners:\n  kuma: tcp://127.0.0.1:0\nshipper: {manifest: [x]}\n", "3:11",
               "shipper.manifest: unknown key (manifests, args, command, files, none)");
}

TEST_F(ScenarioFileTest, ShipperNone) {
  const std::string head = "listeners:\n  kuma: tcp://127.0.0.1:0\n";
  EXPECT_TRUE(ok(head + "shipper: {none: true}\n" + kExpect).shipper.none);
  EXPECT_TRUE(ok(head + "shipper: none\n" + kExpect).shipper.none);
  expect_error(head + "shipper: {none: true, args: [-v]}\n", "3:23", "shipper.args: none: true runs no shipper: drop args");
  expect_error(head + "shipper: {none: true}\n" + kExpect + "faults:\n  - {at: {time: 1s}, action: kill_shipper}\n",
               "7:30", "faults[0].action: kill_shipper: the scenario runs no shipper (shipper: none)");
  expect_error(head + "shipper: {none: true}\nexpect: {shipper: {exit: 0}}\n", "4:19",
               "expect.shipper: the scenario runs no shipper (shipper: none)");
}

TEST_F(ScenarioFileTest, ShipperCommandWithFiles) {
  const auto s = ok(R"(listeners:
  kuma: tcp://127.0.0.1:0
shipper:
  command: [rsyslogd, -n, -f, "${file.rsyslog.conf}"]
  files:
    rsyslog.conf: |
      action(type="omfwd" target="127.0.0.1" port="${listener.kuma.port}" template="$${x}")
    extra.txt: "${run_dir}"
expect: {shipper: {exit: 0}}
)");
  EXPECT_EQ(s.shipper.command, (std::vector<std::string>{"rsyslogd", "-n", "-f", "${file.rsyslog.conf}"}));
  ASSERT_EQ(s.shipper.files.size(), 2u);
  EXPECT_EQ(s.shipper.files[0].first, "rsyslog.conf");
  EXPECT_NE(s.shipper.files[0].second.find("port=\"${listener.kuma.port}\""), std::string::npos);
  EXPECT_EQ(s.shipper.files[1], (std::pair<std::string, std::string>{"extra.txt", "${run_dir}"}));
  EXPECT_TRUE(s.shipper.manifests.empty());
}

TEST_F(ScenarioFileTest, ShipperCommandRules) {
  const std::string head = "listeners:\n  kuma: tcp://127.0.0.1:0\n";
  expect_error(head + "shipper:\n  command: [vector]\n  manifests: [{file: x}]\n", "5:3",
               "shipper.manifests: manifests are for the bundled shipper: with command, give its configuration in files");
  expect_error(head + "shipper:\n  command: [vector]\n  args: [-v]\n", "5:3",
               "shipper.args: extra arguments of the bundled shipper: with command, put them in command");
  expect_error(head + "shipper:\n  manifests: [{file: ../fixtures/manifest.yaml}]\n  files: {a: b}\n", "5:3",
               "shipper.files: files go with command");
  expect_error(head + "shipper:\n  command: []\n", "4:12", "shipper.command: give the program and its arguments");
  expect_error(head + "shipper:\n  command: vector\n", "4:12", "shipper.command: expected a list of strings");
  expect_error(head + "shipper:\n  command: [vector, -c, \"${file.vector.toml}\"]\n  files: {vector.yaml: x}\n", "4:25",
               "shipper.command[2]: unknown file \"vector.toml\" in ${file.vector.toml} at byte 0 (shipper.files: "
               "vector.yaml)");
  expect_error(head + "shipper:\n  command: [vector]\n  files: {../x: y}\n", "5:11",
               "shipper.files[\"../x\"]: a file name is letters, digits");
}

TEST_F(ScenarioFileTest, ManifestRules) {
  const std::string head = "listeners:\n  kuma: tcp://127.0.0.1:0\nshipper:\n  manifests:\n";
  expect_error(head + "    - file: ../fixtures/nope.yaml\n", "5:13",
               "shipper.manifests[0].file: no such file \"../fixtures/nope.yaml\" (" + fixture("nope.yaml") +
                   ") (relative paths are resolved against the scenario's folder)");
  expect_error(head + "    - file: ../fixtures\n", "5:13", "shipper.manifests[0].file: \"../fixtures\" (" +
                                                             (dir_ / "fixtures").string() + ") is not a regular file");
  expect_error(head + "    - {file: ../fixtures/manifest.yaml, inline: x}\n", "5:7",
               "shipper.manifests[0]: give file or inline (one of them)");
  expect_error(head + "    - {replace: {a: b}}\n", "5:7", "shipper.manifests[0]: give file or inline (one of them)");
  expect_error(head + "    - ../fixtures/manifest.yaml\n", "5:7", "shipper.manifests[0]: expected a map (file, inline, replace)");
  expect_error(head + "    - file: ../fixtures/manifest.yaml\n      replace: {\"IP_ADDRESS:PORT\": x, \"IP_ADDRESS\": y}\n",
               "6:39",
               "shipper.manifests[0].replace.IP_ADDRESS: \"IP_ADDRESS\" does not occur in the manifest "
               "../fixtures/manifest.yaml (each replace must match, after those before it)");
  expect_error(head + "    - inline: \"kind: X\"\n      replace: {\"\": y}\n", "6:17",
               "shipper.manifests[0].replace[\"\"]: the text to replace is empty");
}

TEST_F(ScenarioFileTest, PlaceholdersAreCheckedAtLoad) {
  const std::string head = "listeners:\n  kuma: tcp://127.0.0.1:0\nshipper:\n  manifests:\n";
  // A listener that does not exist, in an inline manifest: the line within the text.
  expect_error(head + "    - inline: |\n        a: 1\n        b: ${listener.kafka.address}\n", "5:15",
               "shipper.manifests[0].inline: unknown listener \"kafka\" in ${listener.kafka.address} at byte 8 "
               "(line 2 of the text) (listeners: kuma)");
  // In a file manifest: the file's line and column.
  write("fixtures/bad.yaml", "kind: X\nspec:\n  address: ${listener.kuma\n");
  expect_error(head + "    - file: ../fixtures/bad.yaml\n", "5:13",
               "shipper.manifests[0].file: unterminated \"${\" at byte 25 (a placeholder is ${NAME}; write $${ for a "
               "literal ${) (../fixtures/bad.yaml:3:12)");
  // In a replacement.
  expect_error(head + "    - file: ../fixtures/manifest.yaml\n      replace: {\"IP_ADDRESS:PORT\": \"${listener.kuma}\"}\n",
               "6:36",
               "shipper.manifests[0].replace[\"IP_ADDRESS:PORT\"]: ${listener.kuma} at byte 0: expected "
               "${listener.NAME.ATTRIBUTE}, e.g. ${listener.kuma.address}");
  // In args; names other than listener.* and file.* are only known at run time.
  expect_error(head + "    - file: ../fixtures/manifest.yaml\n  args: [--x, \"${a b}\"]\n", "6:15",
               "shipper.args[1]: invalid placeholder name \"a b\" at byte 0");
  EXPECT_EQ(ok(head + "    - file: ../fixtures/manifest.yaml\n  args: [\"${whatever.known.later}\", \"$${x}\"]\n" +
               kInput + kExpect)
                .shipper.args[0],
            "${whatever.known.later}");
}

// ---------------------------------------------------------------- input ----

TEST_F(ScenarioFileTest, InputRules) {
  const auto input = [&](const std::string& body) { return kListenersShipper + "input:\n" + body + kExpect; };
  expect_error(input("  - pace: all\n"), "7:5", "input[0].file: required: the audit log to write");
  expect_error(input("  - file: ../fixtures/missing.log\n"), "7:11",
               "input[0].file: no such file \"../fixtures/missing.log\"");
  expect_error(input("  - {file: ../fixtures/audit.log, pace: fast}\n"), "7:41",
               "input[0].pace: unknown pace \"fast\" (all, rate, recorded)");
  expect_error(input("  - {file: ../fixtures/audit.log, pace: rate}\n"), "7:5",
               "input[0].rate: required with pace: rate (lines per second, > 0)");
  expect_error(input("  - {file: ../fixtures/audit.log, pace: rate, rate: 0}\n"), "7:53", "input[0].rate: 0 is not > 0");
  expect_error(input("  - {file: ../fixtures/audit.log, rate: 5}\n"), "7:35", "input[0].rate: applies to pace: rate");
  expect_error(input("  - {file: ../fixtures/audit.log, pace: rate, rate: 5, speed: 2}\n"), "7:56",
               "input[0].speed: applies to pace: recorded");
  expect_error(input("  - {file: ../fixtures/audit.log, pace: recorded, speed: -1}\n"), "7:58",
               "input[0].speed: -1 is not > 0");
  expect_error(input("  - {file: ../fixtures/audit.log, limit: 0}\n"), "7:42", "input[0].limit: 0 is not an integer >= 1");
  expect_error(input("  - {file: ../fixtures/audit.log, repeat: 1.5}\n"), "7:43",
               "input[0].repeat: expected an integer >= 1, got a number \"1.5\"");
  expect_error(input("  - {file: ../fixtures/audit.log, rotate_after: [3, 3]}\n"), "7:53",
               "input[0].rotate_after[1]: 3 is not after 3 (strictly increasing)");
  expect_error(input("  - {file: ../fixtures/audit.log, rotate_after: [0]}\n"), "7:50",
               "input[0].rotate_after[0]: 0 is not an integer >= 1");
  expect_error(input("  - {file: ../fixtures/audit.log, repeat: 2, rotate_after: [5, 21]}\n"), "7:64",
               "input[0].rotate_after[1]: 21 is past the last line written (20 lines)");
  expect_error(input("  - {file: ../fixtures/audit.log, lines: 5}\n"), "7:35",
               "input[0].lines: unknown key (file, pace, rate, speed, limit, repeat, rotate_after)");
  expect_error(input("  file: ../fixtures/audit.log\n  - x\n"), "8:3", "YAML syntax");
  expect_error(input("  ../fixtures/audit.log\n"), "7:3", "input: expected a list (or a single map), got a string");
}

// --------------------------------------------------------------- faults ----

TEST_F(ScenarioFileTest, UnknownActionListsTheActions) {
  expect_error(kBase + "faults:\n  - at: {events: 1}\n    action: drop_connections\n    listener: kuma\n"
                       "  - at: {events: 2}\n    action: drop\n    listener: kuma\n",
               "15:13",
               "faults[1].action: unknown action \"drop\" (drop_connections, refuse_connections, slow_reader, "
               "fail_tls_handshakes, kafka_broker_down, kafka_broker_up, kill_shipper, restart_shipper)");
}

TEST_F(ScenarioFileTest, FaultTriggers) {
  const auto fault = [&](const std::string& item) { return kBase + "faults:\n  - " + item + "\n"; };
  expect_error(fault("{action: kill_shipper}"), "11:5", "faults[0].at: required: {events, bytes, lines, time}");
  expect_error(fault("{at: {}, action: kill_shipper}"), "11:10", "faults[0].at: give at least one of events, bytes, lines, time");
  expect_error(fault("{at: {evnts: 3}, action: kill_shipper}"), "11:11",
               "faults[0].at.evnts: unknown key (events, bytes, lines, time, listener)");
  expect_error(fault("{at: {events: -3}, action: kill_shipper}"), "11:19", "faults[0].at.events: -3 is not a non-negative integer");
  expect_error(fault("{at: {time: soon}, action: kill_shipper}"), "11:17", "faults[0].at.time: expected a duration");
  expect_error(fault("{at: {events: 1, listener: kafka}, action: kill_shipper}"), "11:32",
               "faults[0].at.listener: unknown listener \"kafka\" (listeners: kuma)");
  expect_error(fault("{at: {time: 1s, listener: kuma}, action: kill_shipper}"), "11:31",
               "faults[0].at.listener: applies to events and bytes");
  expect_error(fault("{at: {lines: 11}, action: kill_shipper}"), "11:18",
               "faults[0].at.lines: 11 is past the last input line (10 lines)");
  expect_error(kListenersShipper + kExpect + "faults:\n  - {at: {lines: 1}, action: kill_shipper}\n", "9:18",
               "faults[0].at.lines: counts input lines, and the scenario has no input");
  expect_error(kBase + "faults: {at: {time: 1s}, action: kill_shipper}\n", "10:9", "faults: expected a list, got a map");
}

TEST_F(ScenarioFileTest, FaultListenersAndTheirKinds) {
  const std::string listeners =
      "listeners:\n  kuma: tcp://127.0.0.1:0\n  dgram: udp://127.0.0.1:0\n  bus: {transport: kafka, brokers: 2}\n"
      "  secure: {transport: tls}\n";  // 5 lines
  const std::string rest = kBase.substr(kBase.find("shipper")) + "faults:\n  - ";  // faults[0] on line 14
  const auto fault = [&](const std::string& item) { return listeners + rest + item + "\n"; };
  EXPECT_EQ(ok(fault("{at: {time: 1s}, action: fail_tls_handshakes, listener: secure, for: 1s}")).faults[0].listener,
            "secure");
  expect_error(fault("{at: {time: 1s}, action: drop_connections}"), "14:5",
               "faults[0].listener: required for drop_connections: the listener it acts on");
  expect_error(fault("{at: {time: 1s}, action: drop_connections, listener: nope}"), "14:58",
               "faults[0].listener: unknown listener \"nope\" (listeners: kuma, dgram, bus, secure)");
  expect_error(fault("{at: {time: 1s}, action: drop_connections, listener: dgram}"), "14:58",
               "faults[0].listener: drop_connections needs a tcp or tls listener (listener \"dgram\" is udp)");
  expect_error(fault("{at: {time: 1s}, action: fail_tls_handshakes, listener: kuma, for: 1s}"), "14:61",
               "faults[0].listener: fail_tls_handshakes needs a tls listener (listener \"kuma\" is tcp)");
  expect_error(fault("{at: {time: 1s}, action: kafka_broker_down, listener: kuma}"), "14:59",
               "faults[0].listener: kafka_broker_down needs an embedded kafka listener (listener \"kuma\" is tcp)");
  expect_error(fault("{at: {time: 1s}, action: restart_shipper, listener: kuma}"), "14:47",
               "faults[0].listener: restart_shipper takes no listener");
  expect_error(fault("{at: {time: 1s}, action: kafka_broker_down, listener: bus, broker: 3}"), "14:72",
               "faults[0].broker: 3 is not 1-2 (listener \"bus\" has 2 brokers)");
  expect_error(fault("{at: {time: 1s}, action: kafka_broker_up, listener: bus, broker: 0}"), "14:70",
               "faults[0].broker: 0 is not an integer >= 1");
  expect_error(fault("{at: {time: 1s}, action: drop_connections, listener: kuma, broker: 1}"), "14:64",
               "faults[0].broker: applies to kafka_broker_down and kafka_broker_up");
}

TEST_F(ScenarioFileTest, FaultDurationsAndRates) {
  const auto fault = [&](const std::string& item) { return kBase + "faults:\n  - " + item + "\n"; };
  expect_error(fault("{at: {time: 1s}, action: refuse_connections, listener: kuma}"), "11:5",
               "faults[0].for: required for refuse_connections: how long");
  expect_error(fault("{at: {time: 1s}, action: refuse_connections, listener: kuma, for: 0}"), "11:71",
               "faults[0].for: must be longer than 0");
  expect_error(fault("{at: {time: 1s}, action: drop_connections, listener: kuma, for: 1s}"), "11:64",
               "faults[0].for: applies to refuse_connections, slow_reader, fail_tls_handshakes and kafka_broker_down");
  expect_error(fault("{at: {time: 1s}, action: slow_reader, listener: kuma, for: 1s}"), "11:5",
               "faults[0].bytes_per_second: required for slow_reader");
  expect_error(fault("{at: {time: 1s}, action: slow_reader, listener: kuma, for: 1s, bytes_per_second: 0}"), "11:86",
               "faults[0].bytes_per_second: 0 is not >= 1");
  expect_error(fault("{at: {time: 1s}, action: refuse_connections, listener: kuma, for: 1s, bytes_per_second: 5}"),
               "11:75", "faults[0].bytes_per_second: applies to slow_reader");
  expect_error(fault("{at: {time: 1s}, actoin: kill_shipper}"), "11:22",
               "faults[0].actoin: unknown key (at, action, listener, for, bytes_per_second, broker)");
}

// --------------------------------------------------------------- expect ----

TEST_F(ScenarioFileTest, ExpectIsRequired) {
  expect_error(kListenersShipper + kInput, "1:1",
               "expect: required: give at least one expectation (events, delivered, latency, shipper or stats)");
  expect_error(kListenersShipper + kInput + "expect: {}\n", "8:9",
               "expect: give at least one expectation (events, delivered, latency, shipper or stats)");
  expect_error(kListenersShipper + kInput + "expect: {evnts: []}\n", "8:10",
               "expect.evnts: unknown key (events, delivered, latency, shipper, stats)");
}

TEST_F(ScenarioFileTest, ExpectationLanguageErrorsPointIntoTheYaml) {
  const std::string head = kListenersShipper + kInput + "expect:\n  events:\n";  // events body from line 10
  // A bare list: expectations[1] is its second item.
  expect_error(head + "    - {count: {min: 1}}\n    - some: [{field: x, equals: 1}, {field: y, regx: a}]\n", "11:37",
               "expect.events: expectations[1].some[1]: unknown predicate \"regx\"");
  // {expectations: [...]}.
  expect_error(head + "    expectations:\n      - every: {field: kuma.Severity, exists: yes}\n", "11:16",
               "expect.events: expectations[0].every: \"exists\" must be true or false, got \"yes\"");
  // A single expectation.
  expect_error(head + "    evry: [{lint: cef-version-1}]\n", "10:5",
               "expect.events: expectations[0]: unknown key \"evry\"");
  expect_error(head + "    []\n", "10:5", "expect.events: ");
}

TEST_F(ScenarioFileTest, YamlToJsonFollowsTheCoreSchema) {
  const auto s = ok(kListenersShipper + kInput + R"(expect:
  events:
    - where:
        field: x
        equals: ["5", 5, 1.5, -2, 1e3, yes, no, on, true, FALSE, null, ~, "null", 0x1F, 0o17, 007, "true", !!str 12,
                 18446744073709551615, -9223372036854775808, '', plain text, +3, .5, 2., 1_000, 0b1]
      count: {min: 0}
    - where:
        field: y
        equals:
          5: a
          "k": {nested: [1, {deep: true}]}
          empty:
      every:
        field: z
        equals: |
          two
          lines
)");
  const auto values = s.expect.events[0]["where"]["equals"];
  const auto expected = json::parse(R"(["5", 5, 1.5, -2, 1000.0, "yes", "no", "on", true, false, null, null, "null",
      31, 15, 7, "true", "12", 18446744073709551615, -9223372036854775808, "", "plain text", 3, 0.5, 2.0, "1_000",
      "0b1"])");
  EXPECT_EQ(values, expected) << values.dump();
  EXPECT_TRUE(values[0].is_string());
  EXPECT_TRUE(values[1].is_number_integer());
  EXPECT_TRUE(values[2].is_number_float());
  EXPECT_TRUE(values[4].is_number_float());
  EXPECT_TRUE(values[18].is_number_unsigned());
  EXPECT_EQ(s.expect.events[1]["where"]["equals"], json::parse(R"({"5": "a", "k": {"nested": [1, {"deep": true}]},
      "empty": null})"));
  EXPECT_EQ(s.expect.events[1]["every"]["equals"], "two\nlines\n");
}

TEST_F(ScenarioFileTest, YamlValuesJsonCannotHold) {
  const std::string head = kListenersShipper + kInput + "expect:\n  events:\n";
  expect_error(head + "    - {where: {field: x, equals: .inf}, count: {min: 0}}\n", "10:34",
               "expect.events[0].where.equals: \".inf\" is not a finite number (JSON has no inf or nan)");
  expect_error(head + "    - {where: {field: x, equals: 99999999999999999999}, count: {min: 0}}\n", "10:34",
               "expect.events[0].where.equals: \"99999999999999999999\" is not a 64-bit integer");
  expect_error(head + "    - {where: {field: x, equals: !!binary aGk=}, count: {min: 0}}\n", "10:34",
               "expect.events[0].where.equals: tag tag:yaml.org,2002:binary is not one of YAML's core schema");
  expect_error(head + "    - {where: {field: x, field: y}, count: {min: 0}}\n", "10:26",
               "expect.events[0].where.field: repeated key");
  expect_error(head + "    - {? [a]: 1}\n", "10:10", "expect.events[0]: a key must be a string, got a list");
}

TEST_F(ScenarioFileTest, Delivered) {
  const std::string head = kListenersShipper + kInput + "expect:\n  delivered:\n";  // items from line 10
  expect_error(head + "    - select: [{field: userAgent, regex: \"^kubelet\"}, {field: verb, regx: get}]\n", "10:55",
               "expect.delivered[0].select[1]: unknown predicate \"regx\"");
  expect_error(head + "    - select: {field: userAgent, regex: \"(\"}\n", "10:15",
               "expect.delivered[0].select: invalid regex \"(\"");
  expect_error(head + "    - {listener: nope}\n", "10:18", "expect.delivered[0].listener: unknown listener \"nope\" (listeners: kuma)");
  expect_error(head + "    - {in_order: yes}\n", "10:18", "expect.delivered[0].in_order: expected true or false, got a string \"yes\"");
  expect_error(head + "    - {duplicates: -1}\n", "10:20", "expect.delivered[0].duplicates: -1 is not a non-negative integer");
  expect_error(head + "    - {content: \"kuma..Extra\"}\n", "10:17",
               "expect.delivered[0].content: \"field\" has an empty step: \"kuma..Extra\"");
  expect_error(head + "    - {selct: []}\n", "10:8",
               "expect.delivered[0].selct: unknown key (name, listener, select, duplicates, in_order, exclusive, content)");
  EXPECT_TRUE(ok(head + "    - select: []\n").expect.delivered[0].select.is_null());
  EXPECT_EQ(ok(head + "    select: {field: verb, equals: get}\n").expect.delivered[0].select,
            json::parse(R"({"field": "verb", "equals": "get"})"));
  expect_error(kListenersShipper + "expect:\n  delivered: [{}]\n", "7:3",
               "expect.delivered: checks input lines, and the scenario has no input");
}

TEST_F(ScenarioFileTest, Latency) {
  const std::string head = kListenersShipper + kInput + "expect:\n  latency:\n";
  expect_error(head + "    - {percentile: 99}\n", "10:7", "expect.latency[0].max: required: the longest latency allowed");
  expect_error(head + "    - {percentile: 0, max: 1s}\n", "10:20", "expect.latency[0].percentile: 0 is not in (0, 100]");
  expect_error(head + "    - {percentile: 100.1, max: 1s}\n", "10:20", "expect.latency[0].percentile: 100.1 is not in (0, 100]");
  expect_error(head + "    - {max: 0ms}\n", "10:13", "expect.latency[0].max: must be longer than 0");
  EXPECT_EQ(ok(head + "    - {percentile: 100, max: 1}\n").expect.latency[0].max, Duration(1));
}

TEST_F(ScenarioFileTest, ShipperExpectation) {
  const std::string head = kListenersShipper + kInput + "expect:\n  shipper: ";  // line 9
  expect_error(head + "{}\n", "9:12", "expect.shipper: give exit, summary, log or some of them");
  expect_error(head + "{exit: 256}\n", "9:19", "expect.shipper.exit: 256 is not an exit status (0-255)");
  expect_error(head + "{summary: {read: {min: 3, max: 2}}}\n", "9:29", "expect.shipper.summary.read: min is greater than max");
  expect_error(head + "{summary: {read: {min: a}}}\n", "9:35", "expect.shipper.summary.read.min: expected a number");
  expect_error(head + "{summary: {read: {least: 1}}}\n", "9:30", "expect.shipper.summary.read.least: unknown key (min, max)");
  expect_error(head + "{summary: {read: [1]}}\n", "9:29", "expect.shipper.summary.read: expected a value or {min, max}, got a list");
  expect_error(head + "{summary: {a..b: 1}}\n", "9:23", "expect.shipper.summary[\"a..b\"]: a dotted path into the --summary JSON");
  expect_error("listeners:\n  kuma: tcp://127.0.0.1:0\nshipper: {command: [vector]}\nexpect: {shipper: {summary: {a: 1}}}\n",
               "4:20", "expect.shipper.summary: only the bundled shipper writes a summary");
  expect_error(head + "{log: [\"a(b\"]}\n", "9:19", "expect.shipper.log[0]: invalid regex \"a(b\": missing )");
  const auto s = ok(head + "{log: [certificate verify failed, \"^kumasim-shipper\"]}\n");
  ASSERT_TRUE(s.expect.shipper);
  EXPECT_EQ(s.expect.shipper->log, (std::vector<std::string>{"certificate verify failed", "^kumasim-shipper"}));
}

TEST_F(ScenarioFileTest, StatsRunForExclusiveAndATimedBrokerDown) {
  const std::string head = kListenersShipper + kInput + "expect:\n";  // line 9 next
  const auto s = ok("run_for: 2s\n" + head +
                    "  stats: {listeners.kuma.tls_failures: {min: 1}, listeners.kuma.frames: 0}\n"
                    "  delivered: [{exclusive: true}]\n");
  ASSERT_TRUE(s.run_for);
  EXPECT_EQ(s.run_for->count(), 2000);
  ASSERT_EQ(s.expect.stats.size(), 2u);
  EXPECT_EQ(s.expect.stats[0].first, "listeners.kuma.tls_failures");
  EXPECT_EQ(s.expect.stats[0].second, json({{"min", 1}}));
  EXPECT_EQ(s.expect.stats[1].second, json(0));
  ASSERT_EQ(s.expect.delivered.size(), 1u);
  EXPECT_TRUE(s.expect.delivered[0].exclusive);
  expect_error("run_for: 2m\n" + head + "  stats: {a: 1}\n", "1:10", "run_for: must be shorter than the timeout (60000 ms)");
  expect_error(head + "  stats: {listeners.kuma.frames: {min: x}}\n", "9:40", "expect.stats[\"listeners.kuma.frames\"].min: expected a number");
  const auto kafka = ok(
      "listeners:\n  bus: kafka://127.0.0.1:0?topic=t\nshipper: {none: true}\n"
      "faults: [{at: {time: 1s}, action: kafka_broker_down, listener: bus, for: 2s}]\n"
      "expect: {stats: {listeners.bus.kafka_lost_messages: 0}}\n");
  ASSERT_EQ(kafka.faults.size(), 1u);
  EXPECT_EQ(kafka.faults[0].duration.count(), 2000);
}

}  // namespace
}  // namespace kumasim::scenario

namespace kumasim::scenario {
namespace {

// The complete examples of docs/scenarios.md (```yaml blocks that start with
// "name:") load as if they were in scenarios/.
TEST(ScenarioDocs, ExamplesLoad) {
  std::ifstream in(std::string(KUMASIM_SOURCE_DIR) + "/docs/scenarios.md");
  std::stringstream doc;
  doc << in.rdbuf();
  const std::string text = doc.str();
  int examples = 0;
  for (auto start = text.find("```yaml\nname:"); start != std::string::npos;
       start = text.find("```yaml\nname:", start + 1)) {
    const auto body = start + 8;
    const auto end = text.find("```", body);
    ASSERT_NE(end, std::string::npos);
    ++examples;
    auto result = parse_scenario(text.substr(body, end - body), std::string(KUMASIM_SOURCE_DIR) + "/scenarios/doc.yaml");
    EXPECT_TRUE(std::holds_alternative<Scenario>(result)) << std::get<std::string>(result);
  }
  EXPECT_EQ(examples, 2);
}

}  // namespace
}  // namespace kumasim::scenario
