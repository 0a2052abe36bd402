// Destinations, messages and a log collector shared by the delivery tests.
#pragma once

#include "shipper/delivery/delivery.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace kumasim::testing {

inline shipper::Destination socket_destination(const std::string& host, std::uint16_t port,
                                               shipper::SocketSpec::Mode mode = shipper::SocketSpec::Mode::tcp) {
  shipper::Destination destination;
  destination.name = "siem";
  shipper::SocketSpec socket;
  socket.host = host;
  socket.port = port;
  socket.address = host + ":" + std::to_string(port);
  socket.mode = mode;
  destination.transport = socket;
  return destination;
}

inline shipper::Message message(std::string payload, std::uint64_t sequence) {
  shipper::Message m;
  m.payload = std::move(payload);
  m.sequence = sequence;
  return m;
}

inline std::string numbered(std::size_t i) { return "{\"message\":\"event " + std::to_string(i) + "\"}"; }

inline std::vector<std::string> numbered_range(std::size_t from, std::size_t to) {
  std::vector<std::string> out;
  for (std::size_t i = from; i < to; ++i) out.push_back(numbered(i));
  return out;
}

// Collects the delivery's log lines; safe to read while the sender logs.
class Logs {
 public:
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& line) {
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
  }
  // How many lines contain `text`.
  std::size_t count(const std::string& text) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(lines_.begin(), lines_.end(),
                                                  [&](const std::string& l) { return l.find(text) != std::string::npos; }));
  }
  std::string joined() const {
    std::string out;
    for (const auto& line : lines()) out += line + "\n";
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// What arrived, against what was sent: every expected message at least once,
// in order of first arrival; `duplicates` counts the extra copies.
struct Arrival {
  bool complete_in_order = false;
  std::size_t duplicates = 0;
};

inline Arrival compare(const std::vector<std::string>& received, const std::vector<std::string>& expected) {
  std::set<std::string> seen;
  std::vector<std::string> first;
  Arrival arrival;
  for (const auto& m : received) {
    if (seen.insert(m).second)
      first.push_back(m);
    else
      ++arrival.duplicates;
  }
  arrival.complete_in_order = first == expected;
  return arrival;
}

}  // namespace kumasim::testing
