// Socket plumbing for the Socket destination (dkp-log-shipper.md §11.1-§11.2):
// name resolution, connecting without blocking the stop request, waiting on
// a descriptor in slices that notice stop().
#pragma once

#include "shipper/fd.h"
#include "shipper/manifest/manifest.h"
#include "shipper/delivery/stopper.h"

#include <chrono>
#include <string>
#include <variant>

namespace kumasim::shipper {

enum class Wait { ready, timeout, stopped };

// Waits until `fd` reports one of `events` (or an error or hang-up, which
// poll() always reports), the deadline passes or the stopper fires. The
// returned events are stored in `revents`.
Wait wait_fd(int fd, short events, const Stopper& stopper, std::chrono::steady_clock::time_point deadline,
             short& revents);

// A non-blocking TCP connection to `socket.host`:`socket.port` with
// TCP_NODELAY, trying each resolved address in turn; or why none worked
// ("cannot connect to 127.0.0.1:6514: Connection refused"). Empty when the
// stopper fired.
std::variant<Fd, std::string> connect_tcp(const SocketSpec& socket, const Stopper& stopper,
                                          std::chrono::milliseconds timeout);

// A blocking UDP socket connect()ed to the destination, so that ICMP errors
// from the receiver come back as send errors; or why not.
std::variant<Fd, std::string> open_udp(const SocketSpec& socket);

}  // namespace kumasim::shipper
