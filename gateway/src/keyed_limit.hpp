#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace chat::gateway {

/// At most `max` holders per key (a user, a client address), across threads.
/// Used for what one client may hold open at once: streams per user and per
/// address, unauthenticated sockets per address. Memory is one entry per key
/// that holds something now.
class keyed_limit {
public:
  explicit keyed_limit(uint32_t max) : max_(max) {}

  /// Takes a place for `key`; false when `key` already holds `max`.
  [[nodiscard]] bool acquire(const std::string& key) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto& n = held_[key];
    if (n >= max_) {
      if (n == 0)
        held_.erase(key);
      return false;
    }
    ++n;
    return true;
  }

  /// Gives back a place taken by `acquire`.
  void release(const std::string& key) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = held_.find(key);
    if (i != held_.end() && --i->second == 0)
      held_.erase(i);
  }

  [[nodiscard]] uint32_t max() const { return max_; }

private:
  uint32_t max_;
  std::mutex mtx_;
  std::unordered_map<std::string, uint32_t> held_;
};

/// At most `max` holders in all (lock-free).
class counted_limit {
public:
  explicit counted_limit(size_t max) : max_(max) {}

  [[nodiscard]] bool acquire() {
    auto n = n_.load();
    do {
      if (n >= max_)
        return false;
    } while (!n_.compare_exchange_weak(n, n + 1));
    return true;
  }

  void release() { --n_; }

  [[nodiscard]] size_t held() const { return n_.load(); }
  [[nodiscard]] size_t max() const { return max_; }

private:
  size_t max_;
  std::atomic<size_t> n_{0};
};

} // namespace chat::gateway
