#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace bench {

/// Latency samples in nanoseconds; percentiles by sorting once at the end.
class latency_samples {
public:
  void reserve(size_t n) { xs_.reserve(n); }
  void add(int64_t ns) { xs_.push_back(ns); }
  [[nodiscard]] size_t size() const { return xs_.size(); }

  /// The q-quantile (0..1) in milliseconds; 0 without samples.
  double quantile_ms(double q) {
    if (xs_.empty())
      return 0;
    if (!sorted_) {
      std::sort(xs_.begin(), xs_.end());
      sorted_ = true;
    }
    auto i = static_cast<size_t>(q * static_cast<double>(xs_.size() - 1));
    return static_cast<double>(xs_[i]) / 1e6;
  }

private:
  std::vector<int64_t> xs_;
  bool sorted_ = false;
};

/// The slowest delivery of the messages sent in each 100 ms of a run: a
/// percentile says how often deliveries are slow, this says when (a stall of
/// the disk or a node shows as a run of slow windows, a cold start as the
/// first ones). Windows are by send time, measured from `start_ns`.
class stall_windows {
public:
  stall_windows(int64_t start_ns, int64_t wall_ms) : start_ns_(start_ns), wall_ms_(wall_ms) {}

  void add(int64_t sent_ns, int64_t latency_ns) {
    auto w = (sent_ns - start_ns_) / window_ns;
    if (w < 0)
      return;
    if (static_cast<size_t>(w) >= worst_.size())
      worst_.resize(static_cast<size_t>(w) + 1, 0);
    worst_[static_cast<size_t>(w)] = std::max(worst_[static_cast<size_t>(w)], latency_ns);
  }

  /// One line per window whose slowest delivery took more than `over_ms`,
  /// with its wall-clock time (to match a server's log); then how many.
  void print(FILE* out, double over_ms) const {
    size_t n = 0;
    for (size_t i = 0; i < worst_.size(); ++i) {
      auto ms = static_cast<double>(worst_[i]) / 1e6;
      if (ms <= over_ms)
        continue;
      ++n;
      std::fprintf(out, "stall: sent at +%.1f s (unix ms %lld): slowest delivery %.1f ms\n",
                   static_cast<double>(i) / 10,
                   static_cast<long long>(wall_ms_ + 100 * static_cast<int64_t>(i)), ms);
    }
    std::fprintf(out, "stall: %zu of %zu windows of 100 ms over %.0f ms\n", n, worst_.size(),
                 over_ms);
  }

private:
  static constexpr int64_t window_ns = 100'000'000;
  int64_t start_ns_;
  int64_t wall_ms_;
  std::vector<int64_t> worst_;
};

} // namespace bench
