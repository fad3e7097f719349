#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::runtime {

/// The hash of the ring: 64-bit FNV-1a, then MurmurHash3's fmix64 finalizer (FNV
/// alone spreads near-identical keys such as "n1#0", "n1#1" poorly).
[[nodiscard]] uint64_t ring_hash(std::string_view key) noexcept;

/// Consistent hashing of rooms and users onto the nodes of a cluster.
///
/// Each node owns `vnodes` points on a 64-bit circle, at ring_hash("<node>#<i>").
/// A key belongs to the node of the first point at or after ring_hash(key),
/// wrapping around. Keys are "room:<name>" and "user:<name>". Every node builds
/// the same ring from the same member list, so all agree without talking; a node
/// joining or leaving moves only the keys of the points it adds or removes.
class hash_ring {
public:
  static constexpr int default_vnodes = 256;

  hash_ring() = default;
  explicit hash_ring(std::vector<std::string> nodes, int vnodes = default_vnodes);

  /// The home node of `key`; empty when the ring has no node.
  [[nodiscard]] const std::string& owner(std::string_view key) const;

  /// The first `n` distinct nodes clockwise from `key` (home first): replicas.
  [[nodiscard]] std::vector<std::string> owners(std::string_view key, size_t n) const;

  /// Sorted, distinct.
  [[nodiscard]] const std::vector<std::string>& nodes() const { return nodes_; }
  [[nodiscard]] bool empty() const { return nodes_.empty(); }

  [[nodiscard]] static std::string room_key(std::string_view room) {
    return "room:" + std::string{room};
  }
  [[nodiscard]] static std::string user_key(std::string_view user) {
    return "user:" + std::string{user};
  }

private:
  [[nodiscard]] size_t first_point(std::string_view key) const;

  std::vector<std::string> nodes_;
  std::vector<std::pair<uint64_t, uint32_t>> points_; ///< (hash, index into nodes_), sorted
};

} // namespace chat::runtime
