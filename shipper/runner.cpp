#include "shipper/runner.h"

#include "shipper/accounting.h"
#include "shipper/ledger.h"
#include "shipper/stop_signals.h"
#include "shipper/delivery/delivery.h"
#include "shipper/source/file_source.h"
#include "shipper/progress.h"

#include <atomic>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <memory>

namespace kumasim::shipper {
namespace {

std::string describe(const Destination& d) {
  const std::string codec(codec_name(d.codec));
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

// Each ClusterLoggingConfig keeps its own checkpoints: two sources may read
// the same file, each at its own pace.
std::string checkpoint_dir(const std::string& data_dir, const std::string& source) {
  if (data_dir.empty()) return {};
  const auto dir = std::filesystem::path(data_dir) / "sources" / source;
  std::filesystem::create_directories(dir);
  return dir.string();
}

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
  bool once() const { return options_.once || finish_; }

  RunOptions options_;
  int load_status_ = 2;  // 2: invalid manifests; 1: a destination or pipeline failed to start
  std::vector<SourceRun> sources_;
  std::vector<DestinationRun> destinations_;
  Accounting accounting_;
  Progress progress_;
  replay::Flag stop_, reading_over_;
  std::atomic<bool> finish_{false};  // SIGUSR2: behave as --once from now on
  Ledger ledger_;
  bool refused_ = false;  // a destination refused a push (stopping): hand out no more lines
  std::string checkpoint_error_;  // the last failure to save checkpoints, logged once
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
      files.emplace(source, FileSourceOptions{options_.root, checkpoint_dir(options_.data_dir, source.name), 102400,
                                              options_.flush_partial});
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
  if (refused_) return;  // left unread for the checkpoint: read again after a restart
  SourceRun& run = sources_[source];
  const std::uint64_t sequence = ledger_.open(source, line.end);
  ++accounting_.read;
  if (!options_.pacer.wait(line.bytes, stop_)) return;
  const std::int64_t now = options_.clock.now_ns();
  if (!run.pipeline.build(line.bytes, *line.path, now, options_.zone.offset_at(now), event_)) {
    ++accounting_.dropped_filter;
    ledger_.handed(sequence);
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
    if (!destinations_[index].delivery->push(std::move(message))) {
      refused_ = true;
      return;
    }
    destinations_[index].pushed_below = sequence + 1;
  }
  ledger_.handed(sequence);
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

// Lines every destination is done with become checkpoints. A failed save
// is logged once and retried at the next commit: the run goes on.
void Runner::commit_delivered() {
  std::uint64_t floor = std::numeric_limits<std::uint64_t>::max();
  for (const auto& d : destinations_) floor = std::min(floor, d.done_floor());
  ledger_.settle(floor, [&](std::size_t source, const FilePosition& end) { sources_[source].files.commit(end); });
  std::string error;
  for (auto& s : sources_) {
    if (auto failed = s.files.save_checkpoints()) error = *failed;
  }
  if (!error.empty() && error != checkpoint_error_) std::cerr << "kumasim-shipper: saving checkpoints: " << error << "\n";
  checkpoint_error_ = error;
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
  accounting_.behind_checkpoint = ledger_.outstanding();
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
  StopSignalWatcher signals([this] { on_signal(); }, [this] { finish_ = true; });
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
    if (once() && !progressed && all_at_end()) break;
    if (!progressed) stop_.wait_until(std::chrono::steady_clock::now() + options_.poll_interval);
  }
  if (!once()) return;
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
