#pragma once

#include <algorithm>
#include <cstdint>
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

} // namespace bench
