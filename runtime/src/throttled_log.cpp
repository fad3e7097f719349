#include "chat/runtime/throttled_log.hpp"

#include <spdlog/spdlog.h>

namespace chat::runtime {

void throttled_log::note(const std::string& what) {
  auto now = std::chrono::steady_clock::now();
  uint64_t count = 0;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ++unlogged_;
    if (last_ != std::chrono::steady_clock::time_point{} && now - last_ < interval_)
      return;
    last_ = now;
    count = std::exchange(unlogged_, 0);
  }
  if (count == 1)
    spdlog::warn("{}", what);
  else
    spdlog::warn("{} ({} times since this line was last logged)", what, count);
}

} // namespace chat::runtime
