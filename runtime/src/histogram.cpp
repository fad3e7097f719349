#include "chat/runtime/histogram.hpp"

#include <algorithm>

namespace chat::runtime {

histogram::histogram(std::vector<uint64_t> bounds) :
  bounds_(std::move(bounds)), counts_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  std::sort(bounds_.begin(), bounds_.end());
  for (size_t i = 0; i <= bounds_.size(); ++i)
    counts_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(uint64_t value) noexcept {
  auto i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[static_cast<size_t>(i)].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_release);
}

histogram::snapshot histogram::read() const {
  snapshot out;
  out.bounds = bounds_;
  auto count = count_.load(std::memory_order_acquire);
  out.sum = sum_.load(std::memory_order_relaxed);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    out.cumulative.push_back(running);
  }
  // Observations that land while this reads may be in the buckets but not in
  // `count` (read first): the +Inf bucket must equal the count, so both are
  // the larger of the two, and the buckets stay cumulative.
  out.count = std::max(count, running);
  out.cumulative.back() = out.count;
  return out;
}

std::vector<uint64_t> histogram::latency_us() {
  std::vector<uint64_t> out;
  for (uint64_t decade = 100; decade <= 1'000'000; decade *= 10) {
    out.push_back(decade);
    out.push_back(decade * 5 / 2);
    out.push_back(decade * 5);
  }
  out.push_back(10'000'000);
  return out;
}

} // namespace chat::runtime
