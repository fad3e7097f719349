#include "rate_limiter.hpp"

namespace chat::gateway {

bool rate_limiter::take(const std::string& key, int64_t& retry_after_ms) {
  if (!limit_.enabled())
    return true;
  auto now = clock::now();
  std::lock_guard<std::mutex> guard{mtx_};
  if (now >= next_prune_)
    prune(now);
  auto i = buckets_.try_emplace(key, limit_, now).first;
  return i->second.take(now, retry_after_ms);
}

void rate_limiter::prune(clock::time_point now) {
  for (auto i = buckets_.begin(); i != buckets_.end();)
    i = i->second.full(now) ? buckets_.erase(i) : std::next(i);
  next_prune_ = now + std::chrono::seconds(10);
}

} // namespace chat::gateway
