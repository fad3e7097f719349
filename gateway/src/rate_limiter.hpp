#pragma once

#include <mutex>
#include <string>
#include <unordered_map>

#include "chat/runtime/rate_limit.hpp"

namespace chat::gateway {

/// Token buckets shared by key (a user across its connections, a client IP),
/// thread-safe. Buckets that have refilled completely are forgotten, so the map
/// holds only keys that were active recently.
class rate_limiter {
public:
  explicit rate_limiter(runtime::rate_limit limit) : limit_(limit) {}

  /// Takes one token from `key`'s bucket; false (with the wait) when it is empty.
  bool take(const std::string& key, int64_t& retry_after_ms);

  [[nodiscard]] bool enabled() const { return limit_.enabled(); }

private:
  using clock = runtime::token_bucket::clock;
  void prune(clock::time_point now);

  runtime::rate_limit limit_;
  std::mutex mtx_;
  std::unordered_map<std::string, runtime::token_bucket> buckets_;
  clock::time_point next_prune_{};
};

} // namespace chat::gateway
