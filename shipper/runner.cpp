#include "shipper/runner.h"

#include "shipper/accounting.h"
#include "shipper/delivery/delivery.h"
#include "shipper/source/file_source.h"
#include "shipper/progress.h"

#include <nlohmann/json.hpp>

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <glob.h>
#include <iostream>
#include <limits>
#include <memory>
#include <thread>

namespace kumasim::shipper {
namespace {

std::string describe(const Destination& d) {
  static constexpr const char* kCodecs[] = {"JSON", "Text", "Syslog", "CEF", "GELF"};
  const char* codec = kCodecs[static_cast<int>(d.codec)];
  if (const auto* socket = std::get_if<SocketSpec>(&d.transport)) {
    const bool udp = socket->mode == SocketSpec::Mode::udp;
    return std::string(udp ? "UDP " : d.tls.enabled ? "TLS " : "TCP ") + socket->address + ", " + codec;
  }
  const auto& kafka = std::get<KafkaSpec>(d.transport);
  std::string servers;
  for (const auto& s : kafka.bootstrap_servers) servers += (servers.empty() ? "" : ",") + s;
  return "Kafka " + servers + " topic " + kafka.topic + ", " + codec;
}

// One ClusterLoggingConfig: its files, its steps, its destinations.
struct SourceRun {
  FileSource files;
  SourcePipeline pipeline;
  std::vector<std::size_t> destinations;  // indexes into Runner::destinations_
};

struct DestinationRun {
  DestinationPipeline pipeline;
  std::unique_ptr<Delivery> delivery;
  std::uint64_t pushed_below = 0;  // one past the last sequence pushed

  // The sequence below which this destination is done with every line; a
  // destination with nothing pending holds no line back, whatever it was given.
  std::uint64_t done_floor() const {
    const std::uint64_t done = delivery->done_below();
    return done >= pushed_below ? std::numeric_limits<std::uint64_t>::max() : done;
  }
};

// A line read but perhaps not yet delivered everywhere: what its checkpoint commits.
struct Pending {
  std::uint64_t sequence;
  std::size_t source;
  FilePosition end;
};

// SIGINT and SIGTERM are blocked in every thread (the delivery threads
// inherit the mask) and taken by one waiting thread instead of interrupting I/O.
void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGUSR1}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

class SignalWatcher {
 public:
  explicit SignalWatcher(std::function<void()> on_signal) {
    thread_ = std::thread([on_signal = std::move(on_signal), this] {
      sigset_t set;
      sigemptyset(&set);
      for (int s : {SIGINT, SIGTERM, SIGUSR1}) sigaddset(&set, s);
      int signal = 0;
      sigwait(&set, &signal);
      if (signal != SIGUSR1) on_signal();  // SIGUSR1: the run ended by itself
    });
  }
  ~SignalWatcher() {
    pthread_kill(thread_.native_handle(), SIGUSR1);  // harmless once a signal ended the thread
    thread_.join();
  }

 private:
  std::thread thread_;
};

class Runner {
 public:
  explicit Runner(RunOptions options) : options_(std::move(options)), progress_(stderr) {}
  int run();

 private:
  bool load();
  bool start_destinations(const Manifests& manifests, const std::vector<std::string>& used);
  void on_line(std::size_t source, const Line& line);
  bool poll_sources();
  bool all_at_end() const;
  void commit_delivered();
  void shutdown();
  void on_signal();
  void read_until_done();
  void show_progress();
  void finish();

  RunOptions options_;
  int load_status_ = 2;  // 2: invalid manifests; 1: a destination or pipeline failed to start
  std::vector<SourceRun> sources_;
  std::vector<DestinationRun> destinations_;
  Accounting accounting_;
  Progress progress_;
  Flag stop_, reading_over_;
  std::deque<Pending> pending_;
  std::uint64_t next_sequence_ = 0;
  std::uint64_t handed_below_ = 0;  // lines below this reached every destination's buffer
  nlohmann::json event_;
};

bool Runner::load() {
  Manifests manifests = load_manifests(options_.manifests);
  for (const auto& d : manifests.diagnostics) std::cerr << to_string(d) << "\n";
  if (manifests.has_errors()) {
    std::cerr << "kumasim-shipper: the manifests have errors; nothing was sent\n";
    return false;
  }
  std::vector<std::string> used;
  for (const Source& source : manifests.sources)
    for (const auto& ref : source.destination_refs)
      if (std::find(used.begin(), used.end(), ref) == used.end()) used.push_back(ref);
  load_status_ = 1;
  if (!start_destinations(manifests, used)) return false;
  for (const Source& source : manifests.sources) {
    auto pipeline = SourcePipeline::compile(source, options_.settings);
    if (auto* error = std::get_if<std::string>(&pipeline)) {
      std::cerr << "kumasim-shipper: " << *error << "\n";
      return false;
    }
    std::optional<FileSource> files;
    try {
      files.emplace(source, FileSourceOptions{options_.root, options_.data_dir, 102400, options_.flush_partial});
    } catch (const std::exception& e) {  // a checkpoint file that cannot be trusted
      std::cerr << "kumasim-shipper: ClusterLoggingConfig " << source.name << ": " << e.what() << "\n";
      return false;
    }
    SourceRun run{std::move(*files), std::move(std::get<SourcePipeline>(pipeline)), {}};
    for (const auto& ref : source.destination_refs)
      run.destinations.push_back(static_cast<std::size_t>(std::find(used.begin(), used.end(), ref) - used.begin()));
    sources_.push_back(std::move(run));
  }
  if (sources_.empty()) std::cerr << "kumasim-shipper: no ClusterLoggingConfig of type File: nothing to read\n";
  return true;
}

bool Runner::start_destinations(const Manifests& manifests, const std::vector<std::string>& used) {
  DeliveryOptions delivery_options;
  delivery_options.data_dir = options_.data_dir;
  delivery_options.to_stdout = options_.to_stdout;
  delivery_options.log = [](const std::string& message) { std::cerr << "kumasim-shipper: " << message << "\n"; };
  for (const auto& name : used) {
    const Destination& destination = *manifests.destination(name);
    auto pipeline = DestinationPipeline::compile(destination, options_.settings);
    if (auto* error = std::get_if<std::string>(&pipeline)) {
      std::cerr << "kumasim-shipper: " << *error << "\n";
      return false;
    }
    std::unique_ptr<Delivery> delivery;
    try {
      delivery = Delivery::start(destination, delivery_options);
    } catch (const std::exception& e) {
      std::cerr << "kumasim-shipper: " << e.what() << "\n";
      return false;
    }
    destinations_.push_back({std::move(std::get<DestinationPipeline>(pipeline)), std::move(delivery)});
    accounting_.destinations.push_back(
        {destination.name, describe(destination) + (options_.to_stdout ? " (written to stdout)" : ""), {}, 0, nullptr});
  }
  for (std::size_t i = 0; i < destinations_.size(); ++i)
    accounting_.destinations[i].delivery = destinations_[i].delivery.get();
  return true;
}

void Runner::on_line(std::size_t source, const Line& line) {
  SourceRun& run = sources_[source];
  const std::uint64_t sequence = next_sequence_++;
  pending_.push_back({sequence, source, line.end});
  ++accounting_.read;
  if (!options_.pacer.wait(line.bytes, stop_)) return;
  const std::int64_t now = options_.clock.now_ns();
  if (!run.pipeline.build(line.bytes, *line.path, now, options_.zone.offset_at(now), event_)) {
    ++accounting_.dropped_filter;
    handed_below_ = sequence + 1;
    return;
  }
  for (std::size_t i = 0; i < run.destinations.size(); ++i) {
    const std::size_t index = run.destinations[i];
    const bool last = i + 1 == run.destinations.size();
    Message message;
    message.sequence = sequence;
    auto result = destinations_[index].pipeline.process(last ? std::move(event_) : event_, now, message);
    DestinationTally& tally = accounting_.destinations[index];
    if (result.drop) {
      tally.count(*result.drop);
      continue;
    }
    tally.passed_unmodified += result.passed_unmodified;
    if (!destinations_[index].delivery->push(std::move(message))) return;  // stopping
    destinations_[index].pushed_below = sequence + 1;
  }
  handed_below_ = sequence + 1;
}

bool Runner::poll_sources() {
  std::size_t consumed = 0;
  for (std::size_t i = 0; i < sources_.size() && !stop_.raised(); ++i) {
    consumed += sources_[i].files.poll([&](const Line& line) { on_line(i, line); },
                                       [&](const std::string& error) {
                                         ++accounting_.read_errors;
                                         std::cerr << "kumasim-shipper: " << error << "\n";
                                       });
  }
  return consumed > 0;
}

bool Runner::all_at_end() const {
  return std::all_of(sources_.begin(), sources_.end(), [](const SourceRun& s) { return s.files.at_end(); });
}

// Lines below every destination's done mark are delivered (or dropped by
// design): their end positions become checkpoints.
void Runner::commit_delivered() {
  std::uint64_t floor = std::numeric_limits<std::uint64_t>::max();
  for (const auto& d : destinations_) floor = std::min(floor, d.done_floor());
  floor = std::min(floor, handed_below_);
  while (!pending_.empty() && pending_.front().sequence < floor) {
    sources_[pending_.front().source].files.commit(pending_.front().end);
    pending_.pop_front();
  }
  for (auto& s : sources_) s.files.save_checkpoints();
}

// Reading stops at once; the destinations get the shutdown timeout to drain
// (the main thread does that), or are stopped if reading is still blocked on
// a full buffer by then.
void Runner::on_signal() {
  stop_.raise();
  if (!reading_over_.wait_until(std::chrono::steady_clock::now() + options_.shutdown_timeout)) {
    for (auto& d : destinations_) d.delivery->stop();
  }
}

// Like Vector's shutdown: the sinks get a bounded time to send what is buffered.
void Runner::shutdown() {
  const auto deadline = std::chrono::steady_clock::now() + options_.shutdown_timeout;
  for (auto& d : destinations_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    d.delivery->drain(std::max(left, std::chrono::milliseconds(0)));
  }
  for (auto& d : destinations_) d.delivery->stop();
}

void Runner::finish() {
  for (const auto& s : sources_) {
    const FileSourceCounters& c = s.files.counters();
    accounting_.files.bytes += c.bytes;
    accounting_.files.dropped_oversize_line += c.dropped_oversize_line;
    accounting_.files.rotations += c.rotations;
  }
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) accounting_.peak_rss_kib = usage.ru_maxrss;
  progress_.finish(accounting_.read, accounting_.files.bytes);
  std::cerr << "kumasim-shipper: " << accounting_.to_text();
  if (!options_.summary_file.empty()) {
    std::ofstream(options_.summary_file) << accounting_.to_json().dump(2) << "\n";
  }
}

int Runner::run() {
  block_stop_signals();
  if (!load()) return load_status_;
  SignalWatcher signals([this] { on_signal(); });
  read_until_done();
  reading_over_.raise();
  shutdown();
  commit_delivered();
  finish();
  return 0;
}

void Runner::show_progress() {
  if (!progress_.enabled()) return;
  std::uint64_t bytes = 0, unread = 0;
  for (const auto& s : sources_) {
    bytes += s.files.counters().bytes;
    unread += s.files.unread_bytes();
  }
  progress_.update(accounting_.read, bytes, unread);
}

void Runner::read_until_done() {
  auto last_commit = std::chrono::steady_clock::now();
  while (!stop_.raised()) {
    const bool progressed = poll_sources();
    show_progress();
    if (std::chrono::steady_clock::now() - last_commit > std::chrono::seconds(1)) {
      commit_delivered();
      last_commit = std::chrono::steady_clock::now();
    }
    if (options_.once && !progressed && all_at_end()) break;
    if (!progressed) stop_.wait_until(std::chrono::steady_clock::now() + options_.poll_interval);
  }
  if (!options_.once) return;
  // --once delivers everything: wait for the destinations as long as it takes, or until a signal.
  for (auto& d : destinations_)
    while (!d.delivery->drain(std::chrono::milliseconds(200)) && !stop_.raised()) {
    }
}

}  // namespace

int run(RunOptions options) {
  Runner runner(std::move(options));
  return runner.run();
}

}  // namespace kumasim::shipper
