#include "simulator/scenario/sender.h"

#include <signal.h>

namespace kumasim::scenario {

using Clock = std::chrono::steady_clock;

Sender::Sender(Launch launch, std::function<void(const std::string&)> note)
    : launch_(std::move(launch)), note_(std::move(note)) {}

void Sender::start() {
  auto argv = launch_.argv;
  // A restart after the input was complete has nothing more to wait for.
  const bool once = launch_.bundled && input_complete_;
  if (once) argv.emplace_back("--once");
  process_ = std::make_unique<Process>(argv, launch_.log_file);
  exit_.reset();
  finish_signalled_ = once;
  pending_signal_ = 0;
  kill_at_.reset();
  if (!first_start_) first_start_ = Clock::now();
  ++starts_;
  note_("shipper started" + std::string(once ? " (--once)" : ""));
}

// The bundled shipper blocks SIGINT, SIGTERM and SIGUSR2 before anything
// else; until then their default action would kill it. Another program is
// taken as ready at once.
bool Sender::ready() const { return process_ && (!launch_.bundled || process_->blocks(SIGUSR2)); }

void Sender::input_complete() {
  input_complete_ = true;
  advance();
}

Sender::Outcome Sender::restart(bool crash, std::chrono::milliseconds grace) {
  if (!process_) return {false, "no shipper runs"};
  if (restart_pending_) return {false, "the previous restart is still in progress"};
  restart_pending_ = true;
  if (!running()) return {true, "it had exited with " + std::to_string(*exit_) + "; started again"};
  if (crash) {
    process_->signal(SIGKILL);
    return {true, "SIGKILL"};
  }
  signal_when_ready(SIGTERM);
  kill_at_ = Clock::now() + grace;
  return {true, "SIGTERM"};
}

void Sender::begin_stop(std::chrono::milliseconds grace) {
  restart_pending_ = false;
  if (!running()) return;
  signal_when_ready(SIGTERM);
  kill_at_ = Clock::now() + grace;
}

void Sender::signal_when_ready(int number) {
  if (ready()) {
    process_->signal(number);
  } else {
    pending_signal_ = number;
  }
}

void Sender::poll_exit() {
  if (!process_ || exit_) return;
  if (auto status = process_->poll()) {
    exit_ = status;
    note_("shipper exited with " + std::to_string(*status));
  }
}

void Sender::advance() {
  poll_exit();
  if (running() && pending_signal_ && ready()) {
    process_->signal(pending_signal_);
    pending_signal_ = 0;
  }
  if (running() && kill_at_ && Clock::now() > *kill_at_) {
    process_->signal(SIGKILL);
    kill_at_.reset();
  }
  if (running() && launch_.bundled && input_complete_ && !finish_signalled_ && !pending_signal_ && ready()) {
    process_->signal(SIGUSR2);
    finish_signalled_ = true;
  }
  if (restart_pending_ && exit_) {
    restart_pending_ = false;
    start();
  }
}

}  // namespace kumasim::scenario
