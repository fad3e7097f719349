#include "chat/runtime/vector_clock.hpp"

#include <algorithm>

namespace chat::runtime {

namespace {

template <class Entries>
auto find_slot(Entries& xs, std::string_view node) {
  return std::lower_bound(xs.begin(), xs.end(), node, [](const auto& e, std::string_view n) {
    return e.first < n;
  });
}

} // namespace

vector_clock::vector_clock(std::vector<entry> entries) : entries_(std::move(entries)) {
  std::sort(entries_.begin(), entries_.end());
}

uint64_t vector_clock::tick(std::string_view node) {
  auto i = find_slot(entries_, node);
  if (i == entries_.end() || i->first != node)
    i = entries_.emplace(i, std::string{node}, 0);
  return ++i->second;
}

uint64_t vector_clock::get(std::string_view node) const {
  auto i = find_slot(entries_, node);
  return i != entries_.end() && i->first == node ? i->second : 0;
}

} // namespace chat::runtime
