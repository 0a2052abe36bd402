// line_sink PORT_FILE EXPECTED_LINES [TIMEOUT_S]: the discarding TCP receiver
// of the shipper benchmark (bench/ship_bench.sh). Listens on 127.0.0.1 port 0
// (written to PORT_FILE), reads every connection, counts LF-terminated lines,
// and when EXPECTED_LINES have arrived (or nothing arrived for TIMEOUT_S)
// prints "lines bytes seconds" measured from the first byte to the last line.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: line_sink PORT_FILE EXPECTED_LINES [TIMEOUT_S]\n");
    return 2;
  }
  const unsigned long long expected = std::strtoull(argv[2], nullptr, 10);
  const int idle_timeout_ms = (argc > 3 ? std::atoi(argv[3]) : 30) * 1000;
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener, 64) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    std::perror("line_sink: listen");
    return 1;
  }
  std::ofstream(argv[1]) << ntohs(address.sin_port) << "\n";

  std::vector<pollfd> fds = {{listener, POLLIN, 0}};
  std::vector<char> buffer(1 << 20);
  unsigned long long lines = 0, bytes = 0;
  std::chrono::steady_clock::time_point first, last;
  while (lines < expected) {
    const int ready = ::poll(fds.data(), fds.size(), idle_timeout_ms);
    if (ready <= 0) break;  // idle for too long: report what arrived
    if (fds[0].revents & POLLIN) fds.push_back({::accept(listener, nullptr, nullptr), POLLIN, 0});
    for (std::size_t i = 1; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buffer.data(), buffer.size());
      if (n <= 0) {
        ::close(fds[i].fd);
        fds.erase(fds.begin() + static_cast<long>(i--));
        continue;
      }
      if (bytes == 0) first = std::chrono::steady_clock::now();
      bytes += static_cast<unsigned long long>(n);
      lines += static_cast<unsigned long long>(std::count(buffer.data(), buffer.data() + n, '\n'));
      last = std::chrono::steady_clock::now();
    }
  }
  std::printf("%llu %llu %.6f\n", lines, bytes, std::chrono::duration<double>(last - first).count());
  return lines >= expected ? 0 : 1;
}
