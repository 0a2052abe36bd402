// A scenario file (docs/scenarios.md), validated: the listeners to start, the
// shipper to run against them, the audit log to write, the faults to inject
// and what must have been received. Pure data: scenario_file.cpp reads it,
// runner.cpp plays it.
#pragma once

#include "simulator/listener_config.h"

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kumasim::scenario {

using Duration = std::chrono::milliseconds;

// A listener; `tls_auto` asks the runner for a throwaway PKI (cert, key and,
// in verify mode, the CA of client certificates) written into the run's folder.
// With tls_auto, config.tls.cert_file, key_file and ca_file are empty (the
// loader validated the listener with stand-in names, then cleared them): the
// runner fills them in before starting the listener. Otherwise the files are
// absolute paths that existed when the scenario was loaded.
struct ListenerSpec {
  sim::ListenerConfig config;  // port 0 always; config.name is the scenario's key
  bool tls_auto = false;
};

// A manifest for the bundled shipper: a file (relative to the scenario file)
// or inline text, then `replace` (literal text → template, in order, each
// must occur, every occurrence replaced), then placeholders (template.h)
// substituted. The loader has checked that each literal occurs and the
// placeholders' syntax (and that ${listener.NAME.…} names a listener).
struct ManifestSpec {
  std::string file;    // absolute after loading; empty for inline
  std::string inline_text;
  std::vector<std::pair<std::string, std::string>> replace;
};

struct ShipperSpec {
  // Bundled `kumasim-shipper run MANIFESTS --root SANDBOX --data-dir DATA`
  // plus `args`; or, when `command` is set, that argv (templated) with
  // `files` (name → templated text) written into the run's folder first.
  std::vector<ManifestSpec> manifests;
  std::vector<std::string> args;
  std::vector<std::string> command;
  std::vector<std::pair<std::string, std::string>> files;
  bool none = false;  // "shipper: none": the scenario only writes input for an external sender, or none at all
};

// Lines appended to the sandboxed /var/log/kube-audit/audit.log, as a
// kube-apiserver would write them.
struct InputSpec {
  enum class Pace { all, rate, recorded };
  std::string file;                    // absolute after loading
  Pace pace = Pace::all;
  double rate = 0;                     // lines per second (Pace::rate)
  double speed = 1;                    // Pace::recorded: the recorded gaps divided by speed
  std::uint64_t limit = 0;             // 0: every line; else the first `limit` lines
  std::uint64_t repeat = 1;            // the file written this many times over
  std::vector<std::uint64_t> rotate_after;  // rename audit.log to audit.log.1 after writing line N (1-based, across repeats)
};

// When a fault fires: the first condition reached. Counts are totals so far.
struct Trigger {
  std::optional<std::uint64_t> events;   // events received (on `listener` if set, else anywhere)
  std::optional<std::uint64_t> bytes;    // bytes received (likewise)
  std::optional<std::uint64_t> lines;    // input lines written
  std::optional<Duration> time;          // since the shipper started
  std::string listener;
};

struct FaultSpec {
  enum class Action {
    drop_connections,       // listener: close every open connection now
    refuse_connections,     // listener: connections refused for `duration`
    slow_reader,            // listener: read at most `bytes_per_second` for `duration`
    fail_tls_handshakes,    // tls listener: handshakes aborted for `duration`
    kafka_broker_down,      // kafka listener: broker `broker` down (for `duration`, if set: then up again)
    kafka_broker_up,
    restart_shipper,        // SIGTERM, wait for the exit, start again on the same data dir
    kill_shipper,           // SIGKILL (a crash), then start again on the same data dir
  };
  Trigger at;
  Action action;
  std::string listener;
  Duration duration{0};
  std::uint64_t bytes_per_second = 0;
  int broker = 1;
};

// The actions as scenario files name them.
inline constexpr std::array<std::pair<std::string_view, FaultSpec::Action>, 8> kFaultActions{{
    {"drop_connections", FaultSpec::Action::drop_connections},
    {"refuse_connections", FaultSpec::Action::refuse_connections},
    {"slow_reader", FaultSpec::Action::slow_reader},
    {"fail_tls_handshakes", FaultSpec::Action::fail_tls_handshakes},
    {"kafka_broker_down", FaultSpec::Action::kafka_broker_down},
    {"kafka_broker_up", FaultSpec::Action::kafka_broker_up},
    {"kill_shipper", FaultSpec::Action::kill_shipper},
    {"restart_shipper", FaultSpec::Action::restart_shipper},
}};

constexpr std::string_view action_name(FaultSpec::Action action) {
  for (const auto& [name, a] : kFaultActions) {
    if (a == action) return name;
  }
  return "?";
}

// Each input line that `select` matches (matchers over the line parsed as
// JSON, docs/expectations.md; none: every line) arrives on `listener` (empty:
// any) exactly once, or at most `duplicates` extra copies in all; in input
// order when `in_order`. The line's text is found in the event at `content`
// (default: kuma.Extra.message, else kuma.Message), and must equal the line.
struct DeliveredSpec {
  std::string name;
  std::string listener;
  nlohmann::json select;  // null: every line
  std::uint64_t duplicates = 0;
  bool in_order = false;
  bool exclusive = false;  // an event carrying an input line the check does not select fails it
  std::string content;    // empty: the default paths
};

// Latency from the write of a line to the receipt of its event.
struct LatencySpec {
  std::string name;
  std::string listener;
  std::string content;  // as in DeliveredSpec
  double percentile = 99;  // 0 < p ≤ 100
  Duration max{0};
};

struct ShipperExpectation {
  std::optional<int> exit;                       // exit status (the bundled shipper exits 0 when told to finish)
  std::vector<std::pair<std::string, nlohmann::json>> summary;  // dotted path in --summary JSON → value or {min,max}
  std::vector<std::string> log;  // RE2 patterns that must each match somewhere in the sender's output
};

struct Expectations {
  nlohmann::json events;  // the expectation language's body; null: none
  std::vector<DeliveredSpec> delivered;
  std::vector<LatencySpec> latency;
  std::optional<ShipperExpectation> shipper;
  // Dotted paths into the simulator's stats (GET /api/v1/stats) at the end → value or {min,max}:
  // "listeners.kuma.tls_failures": {min: 1}.
  std::vector<std::pair<std::string, nlohmann::json>> stats;
};

struct Scenario {
  std::string path;  // the file
  std::string name;  // default: the file's stem
  std::string description;
  Duration timeout{60000};
  // Set: the run lasts this long and then is judged, the sender stopped (for
  // scenarios where nothing must arrive); reaching it is no failure.
  std::optional<Duration> run_for;
  std::vector<ListenerSpec> listeners;
  ShipperSpec shipper;
  std::vector<InputSpec> input;
  std::vector<FaultSpec> faults;
  Expectations expect;
};

}  // namespace kumasim::scenario
