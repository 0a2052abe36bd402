#include "simulator/scenario/runner.h"

#include "formats/base64.h"
#include "simulator/expect.h"
#include "simulator/pki.h"
#include "simulator/scenario/checks.h"
#include "simulator/scenario/input.h"
#include "simulator/scenario/process.h"
#include "simulator/scenario/template.h"
#include "simulator/server.h"

#include <re2/re2.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

namespace kumasim::scenario {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(5);
// After the sender has finished, events still in flight (UDP datagrams in a
// socket buffer) get this long with nothing new arriving; Kafka listeners
// must also have consumed their topics to the end (lag 0).
constexpr auto kSettle = std::chrono::milliseconds(300);
// An external command has no "finished" signal: once the input is written, it
// is done when nothing has arrived for this long.
constexpr auto kExternalQuiet = std::chrono::milliseconds(1500);
constexpr int kStopGraceMs = 10000;
constexpr auto kTailWait = std::chrono::seconds(10);
constexpr std::uint64_t kMaxCapture = 64ull << 20;

const char* action_name(FaultSpec::Action action) {
  switch (action) {
    case FaultSpec::Action::drop_connections: return "drop_connections";
    case FaultSpec::Action::refuse_connections: return "refuse_connections";
    case FaultSpec::Action::slow_reader: return "slow_reader";
    case FaultSpec::Action::fail_tls_handshakes: return "fail_tls_handshakes";
    case FaultSpec::Action::kafka_broker_down: return "kafka_broker_down";
    case FaultSpec::Action::kafka_broker_up: return "kafka_broker_up";
    case FaultSpec::Action::kill_shipper: return "kill_shipper";
    case FaultSpec::Action::restart_shipper: return "restart_shipper";
  }
  return "?";
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_text(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
}

// A run that cannot be made: the message becomes the scenario's failure.
struct SetupError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The value at a dotted path ("destinations.0.sent") of the shipper's summary or the stats.
const json* value_at(const json& root, const std::string& path) {
  const json* node = &root;
  std::stringstream steps(path);
  std::string step;
  while (std::getline(steps, step, '.')) {
    if (node->is_array() && !step.empty() && std::all_of(step.begin(), step.end(), ::isdigit)) {
      const auto index = std::stoul(step);
      if (index >= node->size()) return nullptr;
      node = &(*node)[index];
    } else if (node->is_object() && node->contains(step)) {
      node = &(*node)[step];
    } else {
      return nullptr;
    }
  }
  return node;
}

// "" when `actual` is what `expected` asks: an equal value, or {min, max};
// else why not, naming `where`.
std::string value_mismatch(const std::string& where, const json* actual, const json& expected) {
  if (!actual) return where + " is missing";
  if (expected.is_object()) {
    if (!actual->is_number()) return where + " is " + actual->dump() + ", not a number";
    const double value = actual->get<double>();
    if ((expected.contains("min") && value < expected["min"].get<double>()) ||
        (expected.contains("max") && value > expected["max"].get<double>())) {
      return where + " is " + actual->dump() + ", expected " + expected.dump();
    }
    return "";
  }
  return *actual == expected ? "" : where + " is " + actual->dump() + ", expected " + expected.dump();
}

class Run {
 public:
  Run(const Scenario& scenario, const RunOptions& options) : scenario_(scenario), options_(options) {}
  ScenarioResult play();

 private:
  enum class Ending { settled, decided, run_for, timed_out, evicted };
  void set_up();
  void write_sender_files();
  void await_sender_tailing();
  Ending watch();
  void prepare_folder();
  void start_server();
  void fill_placeholders();
  void await_kafka_consumers();
  std::string expand(const std::string& text, const std::string& where) const;
  std::vector<std::string> shipper_argv(bool once);
  void start_shipper(bool once);
  void compile_checks();
  bool drain_events();
  void observe(const json& event);
  void capture(const json& event);
  void fire_due_faults();
  void apply(const FaultSpec& fault);
  bool trigger_reached(const Trigger& at) const;
  void request_finish();
  bool sender_finished();
  bool failed_for_good() const;
  bool kafka_caught_up() const;
  bool decided_pass() const;
  void note(const std::string& what);
  void conclude(ScenarioResult& result, bool timed_out);

  const Scenario& scenario_;
  const RunOptions& options_;
  fs::path dir_;
  bool temporary_dir_ = false;
  Clock::time_point started_;
  std::unique_ptr<sim::Server> server_;
  std::map<std::string, std::string> values_;
  std::unique_ptr<InputCatalog> catalog_;
  std::unique_ptr<InputWriter> writer_;
  std::optional<expect::Evaluation> events_;
  std::vector<expect::Selector> selectors_;
  std::vector<DeliveredCheck> delivered_;
  std::vector<LatencyCheck> latency_;
  std::unique_ptr<Process> shipper_;
  std::optional<int> shipper_exit_;
  bool finish_requested_ = false, finish_signalled_ = false;
  std::vector<bool> fired_;
  std::vector<std::pair<Clock::time_point, FaultSpec>> scheduled_;  // the ends of timed faults the runner undoes itself
  std::uint64_t last_id_ = 0, events_seen_ = 0;
  std::int64_t last_received_ns_ = 0;
  std::uint64_t captured_bytes_ = 0;
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> per_listener_;  // events, bytes
  Clock::time_point last_event_at_;
  std::ofstream captured_;
  json timeline_ = json::array();
};

void Run::note(const std::string& what) {
  const double at = std::chrono::duration<double>(Clock::now() - started_).count();
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%.3fs ", at);
  timeline_.push_back(stamp + what);
}

void Run::prepare_folder() {
  if (options_.artifacts.empty()) {
    dir_ = fs::temp_directory_path() / ("kumasim-run-" + scenario_.name + "-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(Clock::now().time_since_epoch().count()));
    temporary_dir_ = true;
  } else {
    dir_ = fs::path(options_.artifacts) / scenario_.name;
  }
  fs::remove_all(dir_);
  fs::create_directories(dir_ / "root");
  fs::create_directories(dir_ / "data");
  captured_.open(dir_ / "events.jsonl", std::ios::binary);
}

// TLS listeners with `tls: auto` get a fresh PKI in the run's folder; its CA
// and client certificate become placeholders for the manifests.
void Run::start_server() {
  sim::ServerConfig config;
  config.io_threads = 2;
  config.max_store = 64ull * 1024 * 1024;  // read as it arrives: the store only bridges two polls
  config.lossless_reader = true;           // and the listeners wait for the runner rather than lose events
  for (const auto& spec : scenario_.listeners) {
    auto listener = spec.config;
    if (spec.tls_auto) {
      pki::Bundle bundle;
      const auto pki_dir = (dir_ / "pki" / listener.name).string();
      if (auto error = pki::create(pki_dir, pki::Options{}, /*force=*/true, bundle)) {
        throw SetupError("listener " + listener.name + ": tls: auto: " + *error);
      }
      listener.tls.cert_file = pki_dir + "/" + std::string(pki::kServerCertFile);
      listener.tls.key_file = pki_dir + "/" + std::string(pki::kServerKeyFile);
      listener.tls.ca_file = pki_dir + "/" + std::string(pki::kCaCertFile);
      const std::string prefix = "listener." + listener.name + ".";
      values_[prefix + "ca_base64"] = formats::base64_encode(bundle.ca.cert_pem);
      values_[prefix + "client_cert_base64"] = formats::base64_encode(bundle.client.cert_pem);
      values_[prefix + "client_key_base64"] = formats::base64_encode(bundle.client.key_pem);
      values_[prefix + "ca_file"] = listener.tls.ca_file;
      values_[prefix + "client_cert_file"] = pki_dir + "/" + std::string(pki::kClientCertFile);
      values_[prefix + "client_key_file"] = pki_dir + "/" + std::string(pki::kClientKeyFile);
    }
    config.listeners.push_back(std::move(listener));
  }
  try {
    server_ = std::make_unique<sim::Server>(std::move(config));
  } catch (const std::exception& e) {
    throw SetupError(e.what());
  }
}

// A KUMA kafka connector reads from where its group is; the listeners must
// have joined theirs (partitions assigned) before the shipper produces, or
// the end of a run could come before they first fetch.
void Run::await_kafka_consumers() {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  for (const auto& spec : scenario_.listeners) {
    if (spec.config.transport != formats::Transport::kafka) continue;
    for (;;) {
      const auto stats = server_->stats_json()["listeners"][spec.config.name];
      if (stats.value("kafka_assigned_partitions", 0) >= spec.config.partitions) break;
      if (Clock::now() > deadline) {
        const auto error = stats["kafka_last_error"];
        throw SetupError("listener " + spec.config.name + ": no partition assigned within 30 s: " +
                         (error.is_string() ? error.get<std::string>() : std::string("no error reported")));
      }
      std::this_thread::sleep_for(kPollInterval);
    }
  }
  if (std::any_of(scenario_.listeners.begin(), scenario_.listeners.end(),
                  [](const auto& l) { return l.config.transport == formats::Transport::kafka; })) {
    note("kafka consumers assigned");
  }
}

void Run::fill_placeholders() {
  for (const auto& bound : server_->listeners_json()) {
    const std::string prefix = "listener." + bound["name"].get<std::string>() + ".";
    values_[prefix + "address"] = bound["address"].get<std::string>();
    values_[prefix + "port"] = std::to_string(bound["port"].get<int>());
    values_[prefix + "host"] = "127.0.0.1";
    if (bound.contains("bootstrap")) {
      values_[prefix + "bootstrap"] = bound["bootstrap"].get<std::string>();
      values_[prefix + "topic"] = bound["topic"].get<std::string>();
    }
  }
  // A CA that signed nothing here: the "wrong CA" a shipper must refuse.
  pki::Bundle stranger;
  if (auto error = pki::generate(pki::Options{}, stranger)) throw SetupError("pki.wrong_ca_base64: " + *error);
  values_["pki.wrong_ca_base64"] = formats::base64_encode(stranger.ca.cert_pem);
  values_["sandbox"] = (dir_ / "root").string();
  values_["run_dir"] = dir_.string();
  values_["audit_log"] = (dir_ / "root/var/log/kube-audit/audit.log").string();
  for (const auto& [name, text] : scenario_.shipper.files) values_["file." + name] = (dir_ / "files" / name).string();
}

std::string Run::expand(const std::string& text, const std::string& where) const {
  auto expanded = substitute(text, values_);
  if (!expanded.ok()) throw SetupError(where + ": " + expanded.error);
  return std::move(expanded.text);
}

// The bundled shipper reads the templated manifests; `once` when the input is
// already complete (a restart after it was written).
std::vector<std::string> Run::shipper_argv(bool once) {
  const auto& shipper = scenario_.shipper;
  if (!shipper.command.empty()) {
    std::vector<std::string> argv;
    for (std::size_t i = 0; i < shipper.command.size(); ++i) {
      argv.push_back(expand(shipper.command[i], "shipper.command[" + std::to_string(i) + "]"));
    }
    return argv;
  }
  std::vector<std::string> argv{options_.shipper_binary, "run"};
  for (std::size_t i = 0; i < shipper.manifests.size(); ++i) argv.push_back((dir_ / "manifests" / (std::to_string(i) + ".yaml")).string());
  const std::vector<std::string> own{"--root", values_.at("sandbox"), "--data-dir", (dir_ / "data").string(),
                                     "--summary", (dir_ / "summary.json").string()};
  argv.insert(argv.end(), own.begin(), own.end());
  for (std::size_t i = 0; i < shipper.args.size(); ++i) argv.push_back(expand(shipper.args[i], "shipper.args[" + std::to_string(i) + "]"));
  if (once) argv.emplace_back("--once");
  return argv;
}

void Run::start_shipper(bool once) {
  const auto argv = shipper_argv(once);
  try {
    shipper_ = std::make_unique<Process>(argv, (dir_ / "shipper.log").string());
  } catch (const std::exception& e) {
    throw SetupError(std::string("shipper: ") + e.what());
  }
  shipper_exit_.reset();
  finish_signalled_ = once;
  note("shipper started" + std::string(once ? " (--once)" : ""));
}

void Run::compile_checks() {
  if (!scenario_.expect.events.is_null()) {
    auto parsed = expect::parse(scenario_.expect.events);
    if (auto* error = std::get_if<expect::ParseError>(&parsed)) throw SetupError("expect.events: " + error->text());
    events_.emplace(std::get<expect::Expectations>(parsed));
  }
  std::vector<const expect::Selector*> chosen;
  selectors_.reserve(scenario_.expect.delivered.size());
  for (std::size_t i = 0; i < scenario_.expect.delivered.size(); ++i) {
    const auto& spec = scenario_.expect.delivered[i];
    if (spec.select.is_null()) {
      chosen.push_back(nullptr);
      continue;
    }
    auto parsed = expect::Selector::parse(spec.select, "expect.delivered[" + std::to_string(i) + "].select");
    if (auto* error = std::get_if<expect::ParseError>(&parsed)) throw SetupError(error->text());
    chosen.push_back(&selectors_.emplace_back(std::move(std::get<expect::Selector>(parsed))));
  }
  try {
    catalog_ = std::make_unique<InputCatalog>(scenario_.input, chosen);
  } catch (const std::exception& e) {
    throw SetupError(std::string("input: ") + e.what());
  }
  writer_ = std::make_unique<InputWriter>(scenario_.input, dir_ / "root/var/log/kube-audit/audit.log", catalog_->lines());
  for (std::size_t i = 0; i < scenario_.expect.delivered.size(); ++i) delivered_.emplace_back(scenario_.expect.delivered[i], *catalog_, i);
  for (const auto& spec : scenario_.expect.latency) latency_.emplace_back(spec, *catalog_, *writer_);
  fired_.assign(scenario_.faults.size(), false);
}

void Run::observe(const json& event) {
  ++events_seen_;
  auto& [count, bytes] = per_listener_[event.value("listener", "")];
  ++count;
  bytes += event.value("size", std::uint64_t{0});
  if (events_) events_->observe(event);
  for (auto& check : delivered_) check.observe(event);
  for (auto& check : latency_) check.observe(event);
  last_received_ns_ = std::max(last_received_ns_, event.value("received_ns", std::int64_t{0}));
  capture(event);
}

// events.jsonl keeps the events for a post-mortem, up to kMaxCapture bytes.
void Run::capture(const json& event) {
  if (captured_bytes_ >= kMaxCapture) return;
  const std::string line = event.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
  captured_ << line;
  captured_bytes_ += line.size();
  if (captured_bytes_ >= kMaxCapture) note("events.jsonl is full (" + std::to_string(kMaxCapture >> 20) + " MiB): later events are not kept");
}

// Every new event, oldest first. False when the store evicted events before
// they were read (the verdict would be built on a partial view).
bool Run::drain_events() {
  sim::EventRenderer render;
  for (;;) {
    sim::EventQuery query;
    query.since = last_id_;
    query.limit = 1000;
    const auto page = server_->store().find(query);
    if (page.empty()) return true;
    for (const auto& event : page) {
      if (event.id != last_id_ + 1) return false;
      last_id_ = event.id;
      observe(render(event));
    }
    server_->store().reader_at(last_id_);
    last_event_at_ = Clock::now();
  }
}

bool Run::trigger_reached(const Trigger& at) const {
  std::uint64_t events = events_seen_, bytes = 0;
  if (!at.listener.empty()) {
    const auto it = per_listener_.find(at.listener);
    events = it == per_listener_.end() ? 0 : it->second.first;
    bytes = it == per_listener_.end() ? 0 : it->second.second;
  } else {
    for (const auto& [name, counts] : per_listener_) bytes += counts.second;
  }
  return (at.events && events >= *at.events) || (at.bytes && bytes >= *at.bytes) ||
         (at.lines && writer_->written() >= *at.lines) || (at.time && Clock::now() - started_ >= *at.time);
}

void Run::apply(const FaultSpec& fault) {
  using Action = FaultSpec::Action;
  std::string outcome;
  switch (fault.action) {
    case Action::kill_shipper:
    case Action::restart_shipper:
      if (!shipper_) {
        outcome = ": no shipper runs";
        break;
      }
      if (!shipper_->poll()) {
        if (fault.action == Action::kill_shipper) shipper_->signal(SIGKILL);
        outcome = ": it exited with " + std::to_string(shipper_->stop(kStopGraceMs));
      }
      start_shipper(/*once=*/finish_requested_);
      break;
    case Action::kafka_broker_down:
    case Action::kafka_broker_up: {
      sim::KafkaFault kafka;
      kafka.broker = fault.broker;
      kafka.down = fault.action == Action::kafka_broker_down;
      const auto result = server_->inject_kafka_fault(fault.listener, kafka);
      if (result.kind != sim::Server::FaultResult::Kind::applied) outcome = ": " + result.message;
      if (fault.action == Action::kafka_broker_down && fault.duration.count() > 0) {
        FaultSpec up = fault;
        up.action = Action::kafka_broker_up;
        scheduled_.emplace_back(Clock::now() + fault.duration, up);
      }
      break;
    }
    default: {
      sim::ListenerFault listener;
      listener.kind = fault.action == Action::drop_connections     ? sim::ListenerFault::Kind::drop_connections
                      : fault.action == Action::refuse_connections ? sim::ListenerFault::Kind::refuse_connections
                      : fault.action == Action::slow_reader        ? sim::ListenerFault::Kind::slow_reader
                                                                   : sim::ListenerFault::Kind::fail_tls_handshakes;
      listener.duration = fault.duration;
      listener.bytes_per_second = fault.bytes_per_second;
      const auto result = server_->inject_listener_fault(fault.listener, listener);
      if (result.kind != sim::Server::FaultResult::Kind::applied) outcome = ": " + result.message;
    }
  }
  note(std::string("fault ") + action_name(fault.action) + (fault.listener.empty() ? "" : " on " + fault.listener) + outcome);
}

void Run::fire_due_faults() {
  for (auto it = scheduled_.begin(); it != scheduled_.end();) {
    if (Clock::now() < it->first) {
      ++it;
      continue;
    }
    const FaultSpec due = it->second;
    it = scheduled_.erase(it);
    apply(due);
  }
  for (std::size_t i = 0; i < scenario_.faults.size(); ++i) {
    if (fired_[i] || !trigger_reached(scenario_.faults[i].at)) continue;
    fired_[i] = true;
    apply(scenario_.faults[i]);
  }
}

// The input is complete: the bundled shipper is told to read to the end,
// deliver and exit (SIGUSR2), once it is ready to take the signal.
void Run::request_finish() {
  if (!finish_requested_) note("input written: " + std::to_string(writer_->written()) + " lines");
  finish_requested_ = true;
  if (finish_signalled_ || !shipper_ || !scenario_.shipper.command.empty() || shipper_->poll()) return;
  if (!shipper_->blocks(SIGUSR2)) return;  // still starting: its default action would kill it
  shipper_->signal(SIGUSR2);
  finish_signalled_ = true;
}

// The sender is done: the bundled shipper exited; a command went quiet after
// the input; no sender at all once the input is written.
bool Run::sender_finished() {
  if (shipper_ && !shipper_exit_) {
    if (auto status = shipper_->poll()) {
      shipper_exit_ = status;
      note("shipper exited with " + std::to_string(*status));
    }
  }
  // Before the input is complete even an early exit is not the end: the
  // writing goes on, and the expectations judge what the exit left undone.
  if (!finish_requested_) return false;
  if (scenario_.shipper.none) return Clock::now() - last_event_at_ > kExternalQuiet;
  if (!scenario_.shipper.command.empty()) {
    const bool quiet = Clock::now() - last_event_at_ > kExternalQuiet;
    const bool delivered = !delivered_.empty() && std::all_of(delivered_.begin(), delivered_.end(), [](auto& c) { return c.complete(); });
    return shipper_exit_.has_value() || quiet || delivered;
  }
  return shipper_exit_.has_value();
}

// Every Kafka listener has consumed all its topic holds (lag 0): what the
// sender produced has been read, not just acknowledged by the broker.
bool Run::kafka_caught_up() const {
  const auto stats = server_->stats_json()["listeners"];
  for (const auto& spec : scenario_.listeners) {
    if (spec.config.transport != formats::Transport::kafka) continue;
    if (stats[spec.config.name].value("kafka_lag", json()) != 0) return false;
  }
  return true;
}

bool Run::failed_for_good() const {
  if (events_ && events_->decided() && !events_->pass()) return true;
  return std::any_of(delivered_.begin(), delivered_.end(), [](const auto& c) { return c.failed(); });
}

// Only "some" and "count.min" expectations, all reached: nothing can undo them.
bool Run::decided_pass() const {
  return events_ && events_->decided() && events_->pass() && delivered_.empty() && latency_.empty() &&
         !scenario_.expect.shipper && scenario_.expect.stats.empty();
}

void Run::conclude(ScenarioResult& result, bool timed_out) {
  auto& details = result.details;
  auto& failures = result.failures;
  if (timed_out) {
    failures.push_back("timed out after " + json(static_cast<double>(scenario_.timeout.count()) / 1000).dump() +
                       " s, before the verdict was decided");
  }
  if (auto error = writer_->error()) failures.push_back("input: " + *error);
  if (events_) {
    details["events"] = events_->result();
    for (const auto& e : details["events"]["expectations"]) {
      if (e["pass"] == true) continue;
      failures.push_back("events" + (e.contains("name") ? " \"" + e["name"].get<std::string>() + "\"" : std::string()) + ": " +
                         e["message"].get<std::string>());
    }
  }
  details["delivered"] = json::array();
  for (std::size_t i = 0; i < delivered_.size(); ++i) {
    auto r = delivered_[i].result();
    if (r["pass"] == false) {
      std::string failure = "delivered \"" + r["name"].get<std::string>() + "\": " + r["message"].get<std::string>();
      if (!r["failing"].empty()) {
        const auto& first = r["failing"][0];
        failure += "; first failing event " + first["id"].dump() + ": " + first["reason"].get<std::string>();
        if (first.contains("diff")) failure += "; " + first["diff"].get<std::string>();
      }
      failures.push_back(std::move(failure));
    }
    details["delivered"].push_back(std::move(r));
  }
  details["latency"] = json::array();
  for (std::size_t i = 0; i < latency_.size(); ++i) {
    auto r = latency_[i].result();
    if (r["pass"] == false) failures.push_back("latency \"" + r["name"].get<std::string>() + "\": " + r["message"].get<std::string>());
    details["latency"].push_back(std::move(r));
  }
  json shipper = {{"exit", shipper_exit_ ? json(*shipper_exit_) : json()}};
  const auto summary_path = dir_ / "summary.json";
  const json summary = fs::exists(summary_path) ? json::parse(read_text(summary_path), nullptr, false) : json();
  if (!summary.is_discarded() && !summary.is_null()) shipper["summary"] = summary;
  if (const auto& expected = scenario_.expect.shipper) {
    if (expected->exit && shipper_exit_ != expected->exit) {
      failures.push_back("shipper: exit status " + (shipper_exit_ ? std::to_string(*shipper_exit_) : "none (still running)") +
                         ", expected " + std::to_string(*expected->exit));
    }
    for (const auto& [path, value] : expected->summary) {
      const auto problem = value_mismatch("shipper.summary." + path, summary.is_object() ? value_at(summary, path) : nullptr, value);
      if (!problem.empty()) failures.push_back(problem);
    }
    const std::string log = read_text(dir_ / "shipper.log");
    for (const auto& pattern : expected->log) {
      if (!re2::RE2::PartialMatch(log, re2::RE2(pattern))) failures.push_back("shipper.log: nothing matches \"" + pattern + "\"");
    }
  }
  details["shipper"] = std::move(shipper);
  const auto stats = server_->stats_json();
  for (const auto& [path, value] : scenario_.expect.stats) {
    const auto problem = value_mismatch("stats." + path, value_at(stats, path), value);
    if (!problem.empty()) failures.push_back(problem);
  }
  details["listeners"] = stats["listeners"];
  details["timeline"] = timeline_;
  // Throughput: events over the time from the first line written to the last event received.
  const auto first_written = catalog_->lines() ? writer_->written_ns(0) : 0;
  const double span = first_written && last_received_ns_ > first_written ? (last_received_ns_ - first_written) / 1e9 : 0;
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  details["throughput"] = {{"events", events_seen_}, {"seconds", span},
                           {"events_per_second", span > 0 ? static_cast<double>(events_seen_) / span : 0.0},
                           {"runner_peak_rss_kib", usage.ru_maxrss}};
  result.pass = failures.empty();
}

// The manifests with `replace` applied to every occurrence and placeholders
// substituted, and the command's files.
void Run::write_sender_files() {
  for (std::size_t i = 0; i < scenario_.shipper.manifests.size(); ++i) {
    const auto& m = scenario_.shipper.manifests[i];
    const std::string where = "shipper.manifests[" + std::to_string(i) + "]";
    std::string text = m.file.empty() ? m.inline_text : read_text(m.file);
    for (const auto& [literal, replacement] : m.replace) {
      std::size_t at = text.find(literal);
      if (at == std::string::npos) throw SetupError(where + ".replace: \"" + literal + "\" does not occur in " + m.file);
      for (; at != std::string::npos; at = text.find(literal, at + replacement.size())) text.replace(at, literal.size(), replacement);
    }
    write_text(dir_ / "manifests" / (std::to_string(i) + ".yaml"), expand(text, where));
  }
  for (const auto& [name, text] : scenario_.shipper.files) write_text(dir_ / "files" / name, expand(text, "shipper.files." + name));
}

// The API server writes to a log that the sender already tails, as on a node:
// writing starts once the sender holds the log open (bounded; a sender that
// reads it another way just starts later).
void Run::await_sender_tailing() {
  const auto log = values_.at("audit_log");
  const auto deadline = Clock::now() + kTailWait;
  while (!shipper_->holds_open(log)) {
    if (shipper_->poll() || Clock::now() > deadline) {
      note("the sender did not open the audit log: writing it anyway");
      return;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  note("the sender tails the audit log");
}

void Run::set_up() {
  prepare_folder();
  start_server();
  await_kafka_consumers();
  fill_placeholders();
  write_sender_files();
  compile_checks();
  writer_->create();  // the empty audit log, as a running API server has one
  fire_due_faults();  // those due at once (time 0) are in place before the shipper connects
  if (!scenario_.shipper.none) {
    start_shipper(/*once=*/false);
    await_sender_tailing();
  }
  writer_->start();
}

// Evaluates events as they arrive and fires the faults, until the run ends.
Run::Ending Run::watch() {
  const auto deadline = started_ + scenario_.timeout;
  std::optional<Clock::time_point> finished_at;
  for (;;) {
    if (!drain_events()) return Ending::evicted;
    fire_due_faults();
    if (writer_->done()) request_finish();
    if (failed_for_good() || decided_pass()) return Ending::decided;
    if (!finished_at && sender_finished()) finished_at = Clock::now();
    if (finished_at && Clock::now() - std::max(*finished_at, last_event_at_) > kSettle && kafka_caught_up()) {
      return Ending::settled;
    }
    if (scenario_.run_for && Clock::now() - started_ >= *scenario_.run_for) return Ending::run_for;
    if (Clock::now() > deadline) return Ending::timed_out;
    std::this_thread::sleep_for(kPollInterval);
  }
}

ScenarioResult Run::play() {
  ScenarioResult result;
  result.name = scenario_.name;
  result.path = scenario_.path;
  started_ = last_event_at_ = Clock::now();
  try {
    set_up();
  } catch (const std::exception& e) {
    result.failures.push_back(e.what());
    result.run_dir = dir_.string();
    result.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    return result;
  }
  auto ending = watch();
  if (shipper_ && !shipper_->poll()) {
    shipper_exit_ = shipper_->stop(kStopGraceMs);
    note("shipper stopped: " + std::to_string(*shipper_exit_));
  } else if (shipper_) {
    shipper_exit_ = shipper_->poll();
  }
  if (ending != Ending::evicted && !drain_events()) ending = Ending::evicted;
  conclude(result, ending == Ending::timed_out);
  if (ending == Ending::evicted) {
    result.failures.push_back("events arrived faster than they could be evaluated: the store evicted some");
    result.pass = false;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  writer_.reset();
  captured_.close();
  server_.reset();
  if (temporary_dir_ && result.pass) {
    fs::remove_all(dir_);
  } else {
    result.run_dir = dir_.string();
  }
  return result;
}

}  // namespace

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  return Run(scenario, options).play();
}

}  // namespace kumasim::scenario
