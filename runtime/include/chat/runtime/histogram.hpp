#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

namespace chat::runtime {

/// A histogram with fixed buckets that any thread may observe into (relaxed
/// atomics, no lock, nothing allocated after construction) and /metrics reads.
/// Values are integers in the caller's unit (microseconds, records); the
/// exposition scales them to base units (prometheus_text::histogram).
class histogram {
public:
  /// `bounds`: the buckets' inclusive upper bounds, ascending; +Inf is implicit.
  explicit histogram(std::vector<uint64_t> bounds);

  void observe(uint64_t value) noexcept;

  struct snapshot {
    std::vector<uint64_t> bounds;
    std::vector<uint64_t> cumulative; ///< per bound, then +Inf (== count)
    uint64_t sum = 0;
    uint64_t count = 0;
  };

  /// The counts so far, cumulative as Prometheus wants them (the last, +Inf,
  /// equals `count`), also while other threads observe.
  [[nodiscard]] snapshot read() const;

  /// Microsecond bounds from 100 µs to 10 s in 1-2.5-5 steps: latencies.
  static std::vector<uint64_t> latency_us();

private:
  std::vector<uint64_t> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_; ///< one per bound, then +Inf
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> count_{0};
};

} // namespace chat::runtime
