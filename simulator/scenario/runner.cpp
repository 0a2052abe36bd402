#include "simulator/scenario/runner.h"

#include "simulator/expect.h"
#include "simulator/scenario/checks.h"
#include "simulator/scenario/fault_plan.h"
#include "simulator/scenario/input.h"
#include "simulator/scenario/sender.h"
#include "simulator/scenario/stage.h"

#include <re2/re2.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <thread>

namespace kumasim::scenario {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr auto kPollInterval = std::chrono::milliseconds(5);
constexpr std::size_t kPage = 64;  // events read between two looks at the faults
// After the sender has finished, events still in flight (UDP datagrams in a
// socket buffer) get this long with nothing new arriving; Kafka listeners
// must also have consumed their topics to the end (lag 0, asked of the broker).
constexpr auto kSettle = std::chrono::milliseconds(300);
// A command has no "finished" signal: once the input is written, it is done
// when nothing has arrived for this long (or its delivered checks are complete).
constexpr auto kExternalQuiet = std::chrono::milliseconds(1500);
constexpr auto kStopGrace = std::chrono::milliseconds(10000);
constexpr auto kTailWait = std::chrono::seconds(10);
constexpr auto kLagQuery = std::chrono::milliseconds(1000);
constexpr auto kLagEvery = std::chrono::milliseconds(250);
constexpr auto kLagUnknownLimit = std::chrono::seconds(20);
constexpr std::uint64_t kMaxCapture = 64ull << 20;

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

// While a fault is applied on the listeners' threads, the store must not
// hold them waiting for the runner, which is waiting for them.
class ReaderPause {
 public:
  explicit ReaderPause(sim::EventStore& store) : store_(store) { store_.pause_reader(true); }
  ~ReaderPause() { store_.pause_reader(false); }
  ReaderPause(const ReaderPause&) = delete;
  ReaderPause& operator=(const ReaderPause&) = delete;

 private:
  sim::EventStore& store_;
};

class Run {
 public:
  Run(const Scenario& scenario, const RunOptions& options) : scenario_(scenario), options_(options) {}
  ScenarioResult play();

 private:
  enum class Ending { settled, decided, run_for, timed_out, evicted, interrupted, kafka_unknown };
  void set_up();
  void compile_checks();
  void await_sender_tailing();
  Ending watch();
  void stop_sender();
  enum class Page { empty, more, evicted };
  Page read_page();
  void observe(const json& event);
  void capture(const json& event);
  void fire_due_faults();
  void apply(const FaultPlan::Due& due);
  bool sender_finished();
  enum class KafkaEnd { caught_up, behind, unknown };
  KafkaEnd kafka_end();
  bool failed_for_good() const;
  bool decided_pass() const;
  std::optional<std::chrono::milliseconds> since_start() const;
  void note(const std::string& what);
  void conclude(ScenarioResult& result, Ending ending);
  void conclude_checks(ScenarioResult& result);
  void conclude_sender(ScenarioResult& result);

  const Scenario& scenario_;
  const RunOptions& options_;
  Clock::time_point started_;
  Stage stage_;
  std::unique_ptr<InputCatalog> catalog_;
  std::unique_ptr<InputWriter> writer_;
  std::optional<expect::Evaluation> events_;
  std::vector<expect::Selector> selectors_;
  std::vector<DeliveredCheck> delivered_;
  std::vector<LatencyCheck> latency_;
  std::unique_ptr<Sender> sender_;
  FaultPlan plan_{scenario_.faults};
  Progress progress_;
  std::optional<Clock::time_point> clock_start_;  // what at.time and run_for count from
  std::optional<Clock::time_point> input_done_at_;
  Clock::time_point last_lag_check_{};
  std::optional<Clock::time_point> lag_unknown_since_;
  std::string lag_unknown_;
  Clock::time_point last_event_at_;
  std::uint64_t last_id_ = 0;
  std::int64_t last_received_ns_ = 0;
  std::uint64_t captured_bytes_ = 0;
  std::ofstream captured_;
  json timeline_ = json::array();
};

void Run::note(const std::string& what) {
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "%.3fs ", std::chrono::duration<double>(Clock::now() - started_).count());
  timeline_.push_back(stamp + what);
}

std::optional<std::chrono::milliseconds> Run::since_start() const {
  if (!clock_start_) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - *clock_start_);
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
    const auto& select = scenario_.expect.delivered[i].select;
    if (select.is_null()) {
      chosen.push_back(nullptr);
      continue;
    }
    auto parsed = expect::Selector::parse(select, "expect.delivered[" + std::to_string(i) + "].select");
    if (auto* error = std::get_if<expect::ParseError>(&parsed)) throw SetupError(error->text());
    chosen.push_back(&selectors_.emplace_back(std::move(std::get<expect::Selector>(parsed))));
  }
  try {
    catalog_ = std::make_unique<InputCatalog>(scenario_.input, chosen);
  } catch (const std::exception& e) {
    throw SetupError(std::string("input: ") + e.what());
  }
  writer_ = std::make_unique<InputWriter>(scenario_.input, stage_.audit_log(), catalog_->lines());
  for (std::size_t i = 0; i < scenario_.expect.delivered.size(); ++i) {
    delivered_.emplace_back(scenario_.expect.delivered[i], *catalog_, i);
  }
  for (const auto& spec : scenario_.expect.latency) latency_.emplace_back(spec, *catalog_, *writer_);
}

// The API server writes to a log that the sender already tails, as on a node:
// writing starts once the sender holds the log open (bounded; a sender that
// reads it another way just starts later).
void Run::await_sender_tailing() {
  const auto log = stage_.audit_log().string();
  const auto deadline = Clock::now() + kTailWait;
  while (!sender_->holds_open(log)) {
    sender_->advance();
    const bool interrupted = options_.interrupted && *options_.interrupted;
    if (!sender_->running() || Clock::now() > deadline || interrupted) {
      note("the sender did not open the audit log: writing it anyway");
      return;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
  note("the sender tails the audit log");
}

void Run::set_up() {
  stage_ = build_stage(scenario_, options_, [this](const std::string& what) { note(what); });
  captured_.open(stage_.dir / "events.jsonl", std::ios::binary);
  compile_checks();
  writer_->create();  // the empty audit log, as a running API server has one
  progress_.since_start = std::chrono::milliseconds(0);
  fire_due_faults();  // those due at once (time 0) are in place before the sender connects
  if (!scenario_.shipper.none) {
    sender_ = std::make_unique<Sender>(sender_launch(scenario_, stage_, options_),
                                       [this](const std::string& what) { note(what); });
    try {
      sender_->start();
    } catch (const std::exception& e) {
      throw SetupError(std::string("shipper: ") + e.what());
    }
    await_sender_tailing();
  }
  clock_start_ = sender_ ? sender_->first_start() : Clock::now();
  writer_->start();
  last_event_at_ = Clock::now();
}

void Run::observe(const json& event) {
  auto& [count, bytes] = progress_.per_listener[event.value("listener", "")];
  const auto size = event.value("size", std::uint64_t{0});
  ++count;
  bytes += size;
  ++progress_.events;
  progress_.bytes += size;
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
  if (captured_bytes_ >= kMaxCapture) note("events.jsonl is full (64 MiB): later events are not kept");
}

// The next events, oldest first, a page at a time so that faults fire close
// to their triggers. `evicted` when the store lost events before they were
// read (the verdict would rest on a partial view).
Run::Page Run::read_page() {
  sim::EventRenderer render;
  sim::EventQuery query;
  query.since = last_id_;
  query.limit = kPage;
  const auto page = stage_.server->store().find(query);
  if (page.empty()) return Page::empty;
  for (const auto& event : page) {
    if (event.id != last_id_ + 1) return Page::evicted;
    last_id_ = event.id;
    observe(render(event));
  }
  stage_.server->store().reader_at(last_id_);
  last_event_at_ = Clock::now();
  return page.size() == kPage ? Page::more : Page::empty;
}

void Run::apply(const FaultPlan::Due& due) {
  using Action = FaultSpec::Action;
  const auto& fault = due.fault;
  std::string problem;
  if (fault.action == Action::kill_shipper || fault.action == Action::restart_shipper) {
    const auto outcome = sender_ ? sender_->restart(fault.action == Action::kill_shipper, kStopGrace)
                                 : Sender::Outcome{false, "no shipper runs"};
    if (outcome.applied) note("fault " + std::string(action_name(fault.action)) + ": " + outcome.text);
    else problem = outcome.text;
  } else if (fault.action == Action::kafka_broker_down || fault.action == Action::kafka_broker_up) {
    sim::KafkaFault kafka;
    kafka.broker = fault.broker;
    kafka.down = fault.action == Action::kafka_broker_down;
    const auto result = stage_.server->inject_kafka_fault(fault.listener, kafka);  // the mock cluster: no listener thread involved
    if (result.kind != sim::Server::FaultResult::Kind::applied) problem = result.message;
    if (kafka.down && *kafka.down && fault.duration.count() > 0) plan_.schedule_end(due, Clock::now() + fault.duration);
  } else {
    sim::ListenerFault listener;
    listener.kind = fault.action == Action::drop_connections     ? sim::ListenerFault::Kind::drop_connections
                    : fault.action == Action::refuse_connections ? sim::ListenerFault::Kind::refuse_connections
                    : fault.action == Action::slow_reader        ? sim::ListenerFault::Kind::slow_reader
                                                                 : sim::ListenerFault::Kind::fail_tls_handshakes;
    listener.duration = fault.duration;
    listener.bytes_per_second = fault.bytes_per_second;
    const ReaderPause pause(stage_.server->store());
    const auto result = stage_.server->inject_listener_fault(fault.listener, listener);
    if (result.kind != sim::Server::FaultResult::Kind::applied) problem = result.message;
  }
  if (!problem.empty()) plan_.not_applied(due.index, problem);
  note("fault " + std::string(action_name(fault.action)) + (fault.listener.empty() ? "" : " on " + fault.listener) +
       " at " + std::to_string(progress_.events) + " events" + (problem.empty() ? "" : ": not applied: " + problem));
}

void Run::fire_due_faults() {
  progress_.lines = writer_->written();
  if (clock_start_) progress_.since_start = since_start();
  for (const auto& due : plan_.due(progress_, Clock::now())) apply(due);
}

// The sender is done: the bundled shipper exited (after it was told that the
// input is complete); a command exited, went quiet or completed the delivered
// checks; without a sender, quiet.
bool Run::sender_finished() {
  if (!input_done_at_) return false;
  const bool quiet = Clock::now() - std::max(last_event_at_, *input_done_at_) > kExternalQuiet;
  if (!sender_) return quiet;
  if (sender_->exit_status()) return true;
  if (scenario_.shipper.command.empty()) return false;
  const bool delivered = !delivered_.empty() &&
                         std::all_of(delivered_.begin(), delivered_.end(), [](const auto& c) { return c.complete(); });
  return quiet || delivered;
}

// Every Kafka listener has consumed all its topic holds, as the brokers say:
// what the sender produced has been read, not just acknowledged. Asked at
// most every kLagEvery; a lag that stays unknown (a broker left down) ends
// the run after kLagUnknownLimit, failed and named.
Run::KafkaEnd Run::kafka_end() {
  if (Clock::now() - last_lag_check_ < kLagEvery) return KafkaEnd::behind;
  last_lag_check_ = Clock::now();
  for (const auto& spec : scenario_.listeners) {
    if (spec.config.transport != formats::Transport::kafka) continue;
    const auto lag = stage_.server->kafka_lag_from_brokers(spec.config.name, kLagQuery);
    if (lag) {
      lag_unknown_since_.reset();
      if (*lag != 0) return KafkaEnd::behind;
      continue;
    }
    if (!lag_unknown_since_) lag_unknown_since_ = Clock::now();
    if (Clock::now() - *lag_unknown_since_ < kLagUnknownLimit) return KafkaEnd::behind;
    const auto error = stage_.server->stats_json()["listeners"][spec.config.name]["kafka_last_error"];
    lag_unknown_ = "listener " + spec.config.name + ": whether it consumed everything is unknown (its lag cannot be had from the brokers: " +
                   (error.is_string() ? error.get<std::string>() : std::string("no error reported")) + ")";
    return KafkaEnd::unknown;
  }
  return KafkaEnd::caught_up;
}

bool Run::failed_for_good() const {
  if (events_ && events_->decided() && !events_->pass()) return true;
  return std::any_of(delivered_.begin(), delivered_.end(), [](const auto& c) { return c.failed(); });
}

// Only "some" and "count.min" expectations, all reached: nothing can undo them.
bool Run::decided_pass() const {
  return events_ && events_->decided() && events_->pass() && delivered_.empty() && latency_.empty() &&
         !scenario_.expect.shipper && scenario_.expect.stats.empty() && scenario_.faults.empty();
}

// Evaluates events as they arrive and fires the faults, until the run ends.
Run::Ending Run::watch() {
  // run_for counts from the sender's start: the timeout never cuts it short.
  const auto deadline = scenario_.run_for ? std::max(started_ + scenario_.timeout, *clock_start_ + *scenario_.run_for + kStopGrace)
                                          : started_ + scenario_.timeout;
  std::optional<Clock::time_point> finished_at;
  int starts = sender_ ? sender_->starts() : 0;
  for (;;) {
    const auto page = read_page();
    if (page == Page::evicted) return Ending::evicted;
    fire_due_faults();
    if (sender_) sender_->advance();
    if (writer_->done() && !input_done_at_) {
      input_done_at_ = Clock::now();
      note("input written: " + std::to_string(writer_->written()) + " lines");
      if (sender_) sender_->input_complete();
    }
    if (failed_for_good() || decided_pass()) return Ending::decided;
    if (sender_ && sender_->starts() != starts) {  // a new process: it has yet to finish
      starts = sender_->starts();
      finished_at.reset();
    }
    if (!finished_at && sender_finished()) finished_at = Clock::now();
    if (finished_at && !plan_.pending() && Clock::now() - std::max(*finished_at, last_event_at_) > kSettle) {
      const auto kafka = kafka_end();
      if (kafka == KafkaEnd::caught_up) return Ending::settled;
      if (kafka == KafkaEnd::unknown) return Ending::kafka_unknown;
    }
    if (scenario_.run_for && since_start() >= *scenario_.run_for) return Ending::run_for;
    if (Clock::now() > deadline) return Ending::timed_out;
    if (options_.interrupted && *options_.interrupted) return Ending::interrupted;
    if (page == Page::empty) std::this_thread::sleep_for(kPollInterval);
  }
}

// SIGTERM, SIGKILL after the grace; events are read meanwhile, so that a
// shipper flushing its buffers is not held back by a full store.
void Run::stop_sender() {
  if (!sender_) return;
  sender_->begin_stop(kStopGrace);
  const auto deadline = Clock::now() + kStopGrace + std::chrono::seconds(5);  // SIGKILL cannot be refused
  while (sender_->running() && Clock::now() < deadline) {
    if (read_page() == Page::empty) std::this_thread::sleep_for(kPollInterval);
    sender_->advance();
  }
}

void Run::conclude_checks(ScenarioResult& result) {
  auto& details = result.details;
  auto& failures = result.failures;
  if (events_) {
    details["events"] = events_->result();
    for (const auto& e : details["events"]["expectations"]) {
      if (e["pass"] == true) continue;
      failures.push_back("events" + (e.contains("name") ? " \"" + e["name"].get<std::string>() + "\"" : std::string()) +
                         ": " + e["message"].get<std::string>());
    }
  }
  details["delivered"] = json::array();
  for (const auto& check : delivered_) {
    auto r = check.result();
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
  for (const auto& check : latency_) {
    auto r = check.result();
    if (r["pass"] == false) failures.push_back("latency \"" + r["name"].get<std::string>() + "\": " + r["message"].get<std::string>());
    details["latency"].push_back(std::move(r));
  }
  const auto stats = stage_.server->stats_json();
  for (const auto& [path, value] : scenario_.expect.stats) {
    const auto problem = value_mismatch("stats." + path, expect::FieldPath(path).find(stats), value);
    if (!problem.empty()) failures.push_back(problem);
  }
  details["listeners"] = stats["listeners"];
}

void Run::conclude_sender(ScenarioResult& result) {
  const auto status = sender_ ? sender_->exit_status() : std::nullopt;
  json shipper = {{"exit", status ? json(*status) : json()}};
  const json summary = stage_.shipper_summary();
  if (summary.is_object()) shipper["summary"] = summary;
  if (const auto& expected = scenario_.expect.shipper) {
    if (expected->exit && status != expected->exit) {
      result.failures.push_back("shipper: exit status " + (status ? std::to_string(*status) : "none (still running)") +
                                ", expected " + std::to_string(*expected->exit));
    }
    for (const auto& [path, value] : expected->summary) {
      const auto problem = value_mismatch("shipper.summary." + path, expect::FieldPath(path).find(summary), value);
      if (!problem.empty()) result.failures.push_back(problem);
    }
    const std::string log = stage_.sender_output();
    for (const auto& pattern : expected->log) {
      if (!re2::RE2::PartialMatch(log, re2::RE2(pattern))) result.failures.push_back("shipper.log: nothing matches \"" + pattern + "\"");
    }
  }
  result.details["shipper"] = std::move(shipper);
}

void Run::conclude(ScenarioResult& result, Ending ending) {
  auto& failures = result.failures;
  if (ending == Ending::timed_out) {
    failures.push_back("timed out after " + json(static_cast<double>(scenario_.timeout.count()) / 1000).dump() +
                       " s, before the verdict was decided");
  }
  if (ending == Ending::interrupted) failures.push_back("interrupted");
  if (ending == Ending::evicted) failures.push_back("events arrived faster than they could be evaluated: the store evicted some");
  if (ending == Ending::kafka_unknown) failures.push_back(lag_unknown_);
  if (auto error = writer_->error()) failures.push_back("input: " + *error);
  for (auto& problem : plan_.failures()) failures.push_back(std::move(problem));
  conclude_sender(result);
  conclude_checks(result);
  result.details["timeline"] = timeline_;
  // Throughput: events over the time from the first line written to the last event received.
  const auto first_written = catalog_->lines() ? writer_->written_ns(0) : 0;
  const double span = first_written && last_received_ns_ > first_written ? (last_received_ns_ - first_written) / 1e9 : 0;
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  result.details["throughput"] = {{"events", progress_.events}, {"seconds", span},
                                  {"events_per_second", span > 0 ? static_cast<double>(progress_.events) / span : 0.0},
                                  {"process_peak_rss_kib", usage.ru_maxrss}};
  result.pass = failures.empty();
}

ScenarioResult Run::play() {
  ScenarioResult result;
  result.name = scenario_.name;
  result.path = scenario_.path;
  started_ = Clock::now();
  try {
    set_up();
    const auto ending = watch();
    stop_sender();
    Page page;
    while ((page = read_page()) == Page::more) {
    }
    conclude(result, page == Page::evicted ? Ending::evicted : ending);
  } catch (const std::exception& e) {  // a run that could not be made, or went wrong on the way
    result.failures.push_back(e.what());
    result.pass = false;
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  sender_.reset();
  writer_.reset();
  captured_.close();
  stage_.server.reset();
  if (stage_.temporary && result.pass) {
    std::error_code ignored;
    fs::remove_all(stage_.dir, ignored);
  } else {
    result.run_dir = stage_.dir.string();
  }
  return result;
}

}  // namespace

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  return Run(scenario, options).play();
}

}  // namespace kumasim::scenario
