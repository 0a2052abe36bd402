// A growable double-ended FIFO on one vector. Unlike std::deque it allocates
// only when it grows past its largest size so far, so a queue that cycles
// messages through it costs no allocation per message.
#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace kumasim::shipper {

template <class T>
class Ring {
 public:
  bool empty() const { return size_ == 0; }
  std::size_t size() const { return size_; }

  T& operator[](std::size_t i) { return slots_[(head_ + i) & mask()]; }
  const T& operator[](std::size_t i) const { return slots_[(head_ + i) & mask()]; }
  T& front() { return (*this)[0]; }
  const T& front() const { return (*this)[0]; }
  T& back() { return (*this)[size_ - 1]; }

  void push_back(T&& value) {
    if (size_ == slots_.size()) grow();
    ++size_;
    back() = std::move(value);
  }
  void push_front(T&& value) {
    if (size_ == slots_.size()) grow();
    head_ = (head_ + slots_.size() - 1) & mask();
    ++size_;
    front() = std::move(value);
  }
  T pop_front() {
    T value = std::move(front());
    head_ = (head_ + 1) & mask();
    --size_;
    return value;
  }
  T pop_back() {
    T value = std::move(back());
    --size_;
    return value;
  }
  void clear() {
    while (!empty()) pop_back();
  }

 private:
  // The capacity is a power of two, so an index wraps with a mask.
  std::size_t mask() const { return slots_.size() - 1; }
  void grow() {
    std::vector<T> bigger(std::max<std::size_t>(16, slots_.size() * 2));
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  std::size_t head_ = 0, size_ = 0;
};

}  // namespace kumasim::shipper
