#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::runtime {

/// A rate limit as configured: `PER_SEC:BURST`, or off.
struct rate_limit {
  double per_sec = 0; ///< 0 = off
  double burst = 0;

  [[nodiscard]] bool enabled() const { return per_sec > 0; }
  [[nodiscard]] std::string to_string() const;
};

/// Parses `PER_SEC:BURST` (positive numbers, BURST >= 1) or `off`.
[[nodiscard]] std::optional<rate_limit> parse_rate_limit(std::string_view text,
                                                         std::string& error);

/// A token bucket: `burst` tokens, refilled at `per_sec`. Not thread-safe.
class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  explicit token_bucket(rate_limit limit, clock::time_point now = clock::now()) :
    limit_(limit), tokens_(limit.burst), last_(now) {}

  /// Takes one token. When none is left returns false and sets `retry_after_ms`
  /// to the time until the next token.
  bool take(clock::time_point now, int64_t& retry_after_ms);

  /// True when the bucket is full again (nothing to remember about it).
  [[nodiscard]] bool full(clock::time_point now) const;

  /// The tokens it holds at `now` (-1 when the limit is off).
  [[nodiscard]] double level(clock::time_point now) const;

private:
  void refill(clock::time_point now);
  rate_limit limit_;
  double tokens_;
  clock::time_point last_;
};

} // namespace chat::runtime
