#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::runtime {

/// A vector clock: node id -> counter, kept sorted by node id. Small (one entry
/// per node that ever accepted a message in the room), so a sorted vector beats a map.
class vector_clock {
public:
  using entry = std::pair<std::string, uint64_t>;

  vector_clock() = default;
  explicit vector_clock(std::vector<entry> entries);

  /// Increments `node`'s counter and returns the new value.
  uint64_t tick(std::string_view node);

  [[nodiscard]] uint64_t get(std::string_view node) const;
  [[nodiscard]] const std::vector<entry>& entries() const noexcept { return entries_; }
  std::vector<entry>& entries() noexcept { return entries_; }

  friend bool operator==(const vector_clock& a, const vector_clock& b) {
    return a.entries_ == b.entries_;
  }

private:
  std::vector<entry> entries_;
};

} // namespace chat::runtime
