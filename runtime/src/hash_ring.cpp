#include "chat/runtime/hash_ring.hpp"

#include <algorithm>

namespace chat::runtime {

uint64_t ring_hash(std::string_view key) noexcept {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

hash_ring::hash_ring(std::vector<std::string> nodes, int vnodes) : nodes_(std::move(nodes)) {
  std::sort(nodes_.begin(), nodes_.end());
  nodes_.erase(std::unique(nodes_.begin(), nodes_.end()), nodes_.end());
  points_.reserve(nodes_.size() * static_cast<size_t>(vnodes));
  for (uint32_t n = 0; n < nodes_.size(); ++n)
    for (int i = 0; i < vnodes; ++i)
      points_.emplace_back(ring_hash(nodes_[n] + "#" + std::to_string(i)), n);
  // Ties (astronomically rare) break by node order, so every node agrees.
  std::sort(points_.begin(), points_.end());
}

size_t hash_ring::first_point(std::string_view key) const {
  auto h = ring_hash(key);
  auto i = std::lower_bound(points_.begin(), points_.end(), std::make_pair(h, uint32_t{0}));
  return i == points_.end() ? 0 : static_cast<size_t>(i - points_.begin());
}

const std::string& hash_ring::owner(std::string_view key) const {
  static const std::string none;
  if (points_.empty())
    return none;
  return nodes_[points_[first_point(key)].second];
}

std::vector<std::string> hash_ring::owners(std::string_view key, size_t n) const {
  std::vector<std::string> out;
  if (points_.empty())
    return out;
  n = std::min(n, nodes_.size());
  for (size_t i = first_point(key); out.size() < n; i = (i + 1) % points_.size()) {
    auto& node = nodes_[points_[i].second];
    if (std::find(out.begin(), out.end(), node) == out.end())
      out.push_back(node);
  }
  return out;
}

} // namespace chat::runtime
