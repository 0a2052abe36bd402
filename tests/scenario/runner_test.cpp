// Scenarios played for real: listeners in-process on ephemeral ports, the
// bundled kumasim-shipper (or another command) as a child process.
#include "simulator/scenario/runner.h"

#include "simulator/scenario/scenario_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kumasim::scenario {
namespace {

namespace fs = std::filesystem;

const std::string kManifest = R"(
    - inline: |
        apiVersion: deckhouse.io/v1alpha1
        kind: ClusterLogDestination
        metadata: {name: kuma}
        spec:
          type: Socket
          socket: {address: "${listener.kuma.address}", mode: TCP, encoding: {codec: JSON}}
        ---
        apiVersion: deckhouse.io/v1alpha2
        kind: ClusterLoggingConfig
        metadata: {name: audit}
        spec:
          type: File
          file: {include: [/var/log/kube-audit/audit.log]}
          destinationRefs: [kuma]
)";

class Runner : public ::testing::Test {
 protected:
  // A scenario in the source tree's tests/data folder, so that its relative paths reach fixtures/.
  Scenario scenario(const std::string& text) {
    const std::string path = std::string(KUMASIM_SOURCE_DIR) + "/tests/scenario/runner_test.yaml";
    auto parsed = parse_scenario(text, path);
    if (auto* error = std::get_if<std::string>(&parsed)) ADD_FAILURE() << *error;
    return std::get<Scenario>(parsed);
  }
  ScenarioResult run(const std::string& text) {
    return run_scenario(scenario(text), RunOptions{KUMASIM_SHIPPER_BINARY, {}});
  }
  static std::string joined(const ScenarioResult& r) {
    std::string all;
    for (const auto& f : r.failures) all += f + "\n";
    return all + r.details.dump();
  }
};

TEST_F(Runner, APassingScenarioEndsWhenTheShipperHasDeliveredAndCleansUp) {
  const auto r = run("name: pass\ntimeout: 30s\nlisteners:\n  kuma: tcp://127.0.0.1:0?codec=json\nshipper:\n  manifests:" +
                     kManifest +
                     "input: {file: ../../fixtures/audit/sysdiglabs-aks-audit-log.log}\n"
                     "expect:\n"
                     "  events: [{count: {eq: 24}}]\n"
                     "  delivered: [{listener: kuma, in_order: true}]\n"
                     "  shipper: {exit: 0, summary: {read: 24}}\n"
                     "  stats: {listeners.kuma.frames: 24}\n");
  EXPECT_TRUE(r.pass) << joined(r);
  EXPECT_TRUE(r.run_dir.empty()) << "a temporary folder is removed when the scenario passes";
  const std::string timeline = r.details["timeline"].dump();
  EXPECT_NE(timeline.find("input written: 24 lines"), std::string::npos) << timeline;
  EXPECT_NE(timeline.find("shipper exited with 0"), std::string::npos) << timeline;
  EXPECT_EQ(r.details["shipper"]["summary"]["destinations"][0]["sent"], 24);
}

TEST_F(Runner, AViolationEndsTheRunAtOnceAndNamesTheEvent) {
  const auto r = run("name: fail\ntimeout: 30s\nlisteners:\n  kuma: tcp://127.0.0.1:0?codec=json\nshipper:\n  manifests:" +
                     kManifest +
                     "input: {file: ../../fixtures/audit/sysdiglabs-aks-audit-log.log}\n"
                     "expect:\n"
                     "  events: [{name: only lists, every: {field: audit.verb, equals: list}}]\n");
  ASSERT_FALSE(r.pass);
  ASSERT_FALSE(r.failures.empty());
  EXPECT_NE(r.failures[0].find(R"(events "only lists": every: )"), std::string::npos) << joined(r);
  EXPECT_NE(r.failures[0].find(R"(every[0]: audit.verb is "get", expected equals "list")"), std::string::npos) << joined(r);
  EXPECT_FALSE(r.run_dir.empty());
  EXPECT_TRUE(fs::exists(fs::path(r.run_dir) / "shipper.log"));
  EXPECT_TRUE(fs::exists(fs::path(r.run_dir) / "manifests" / "0.yaml"));
  fs::remove_all(r.run_dir);
}

TEST_F(Runner, AShipperThatCannotDeliverTimesOut) {
  const auto r = run("name: timeout\ntimeout: 1500ms\nlisteners:\n  kuma: tcp://127.0.0.1:0?codec=json\nshipper:\n  manifests:" +
                     kManifest +
                     "  args: [--shutdown-timeout, '100']\n"
                     "input: {file: ../../fixtures/audit/sysdiglabs-aks-audit-log.log}\n"
                     "faults: [{at: {time: 0s}, action: refuse_connections, listener: kuma, for: 1m}]\n"
                     "expect: {delivered: [{listener: kuma}]}\n");
  ASSERT_FALSE(r.pass);
  EXPECT_EQ(r.failures.at(0), "timed out after 1.5 s, before the verdict was decided") << joined(r);
  EXPECT_NE(joined(r).find("24 of 24 selected lines missing, first line 1"), std::string::npos) << joined(r);
  fs::remove_all(r.run_dir);
}

TEST_F(Runner, AnyCommandCanBeTheSender) {
  // bash's /dev/tcp and tail -F: a sender that knows nothing of DKP, sending the raw lines.
  const auto r = run(
      "name: command\ntimeout: 30s\nlisteners:\n  kuma: tcp://127.0.0.1:0?codec=json\n"
      "shipper:\n"
      "  command: [bash, '${file.send.sh}']\n"
      "  files:\n"
      "    send.sh: |\n"
      "      exec 3<>/dev/tcp/127.0.0.1/${listener.kuma.port}\n"
      "      exec tail -n +1 -F ${audit_log} >&3\n"
      "input: {file: ../../fixtures/audit/falco-k8s-audit-trace-files.log}\n"
      "expect:\n"
      "  delivered: [{listener: kuma, in_order: true, content: raw}]\n");
  EXPECT_TRUE(r.pass) << joined(r);
}

TEST_F(Runner, AFaultThatNeverFiresFailsTheScenario) {
  const auto r = run("name: never\ntimeout: 30s\nlisteners:\n  kuma: tcp://127.0.0.1:0?codec=json\nshipper:\n  manifests:" +
                     kManifest +
                     "input: {file: ../../fixtures/audit/sysdiglabs-aks-audit-log.log}\n"
                     "faults: [{at: {events: 100000}, action: drop_connections, listener: kuma}]\n"
                     "expect: {delivered: [{listener: kuma}]}\n");
  ASSERT_FALSE(r.pass);
  ASSERT_EQ(r.failures.size(), 1u) << joined(r);
  EXPECT_EQ(r.failures[0], "faults[0] (drop_connections on kuma): never fired: its trigger was not reached");
  fs::remove_all(r.run_dir);
}

TEST_F(Runner, AGracefulRestartLosesAndRepeatsNothing) {
  const auto r = run("name: restart\ntimeout: 30s\nlisteners:\n  kuma: tcp://127.0.0.1:0?codec=json\nshipper:\n  manifests:" +
                     kManifest +
                     "input: {file: ../../fixtures/audit/falco-k8s-audit-trace-files.log, pace: rate, rate: 200}\n"
                     "faults: [{at: {events: 10}, action: restart_shipper}]\n"
                     "expect: {delivered: [{listener: kuma, in_order: true}], shipper: {exit: 0}}\n");
  EXPECT_TRUE(r.pass) << joined(r);
  const std::string timeline = r.details["timeline"].dump();
  EXPECT_NE(timeline.find("fault restart_shipper: SIGTERM"), std::string::npos) << timeline;
  EXPECT_NE(timeline.find("shipper exited with 0"), std::string::npos) << timeline;
}

TEST_F(Runner, SetupErrorsAreTheFailure) {
  const auto r = run("name: setup\nlisteners:\n  kuma: tcp://127.0.0.1:0?codec=json\n"
                     "shipper: {command: [/nonexistent/sender]}\n"
                     "expect: {events: [{count: {min: 1}}]}\n");
  ASSERT_FALSE(r.pass);
  EXPECT_EQ(r.failures.at(0), "shipper: cannot start /nonexistent/sender: No such file or directory") << joined(r);
  fs::remove_all(r.run_dir);
}

}  // namespace
}  // namespace kumasim::scenario
