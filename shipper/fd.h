// An owned file descriptor, closed when it goes, and the words for a
// system call's failure.
#pragma once

#include <unistd.h>

#include <cstring>
#include <string>
#include <utility>

namespace kumasim::shipper {

// "Connection refused" for ECONNREFUSED.
inline std::string errno_text(int error) { return std::strerror(error); }

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

 private:
  int fd_ = -1;
};

}  // namespace kumasim::shipper
