#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace chat::runtime {

/// A warning that may repeat thousands of times a second (every failed accept
/// while the process is out of descriptors, every refused socket of a flood):
/// logged at once the first time, then at most once per interval with the
/// number of times it happened meanwhile, so that an attack cannot fill the
/// disk through the log.
class throttled_log {
public:
  explicit throttled_log(std::chrono::milliseconds interval = std::chrono::seconds(10)) :
    interval_(interval) {}

  /// Counts one occurrence of `what`; logs it (as a warning) when due.
  void note(const std::string& what);

private:
  std::mutex mtx_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_{};
  uint64_t unlogged_ = 0;
};

} // namespace chat::runtime
