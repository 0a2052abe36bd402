// A TCP receiver on 127.0.0.1 (port 0) that keeps every LF-terminated line
// it reads, for tests of what a shipper delivers. It can drop its current
// connection and refuse new ones, as a restarting collector would.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace kumasim::testing {

class LineReceiver {
 public:
  // Binds a port at once; listen() may come later, so connects are refused until then.
  explicit LineReceiver(bool listen_now = true);
  ~LineReceiver();

  std::uint16_t port() const { return port_; }
  void listen();
  // Closes the connection being read (after reading what is readable) and
  // stops accepting; accepting resumes on the same port with listen().
  void close_connections();

  std::vector<std::string> lines() const;
  std::size_t count() const;
  std::uint64_t connections() const { return connections_; }

 private:
  void serve();

  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> listening_{false}, stop_{false}, drop_{false};
  std::atomic<std::uint64_t> connections_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
  std::string partial_;
  std::thread thread_;
};

}  // namespace kumasim::testing
