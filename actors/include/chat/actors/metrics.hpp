#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace chat::actors {

/// Counters of one node, updated by its actors and read by /metrics (and
/// tests). Relaxed atomics: each is a plain tally.
struct node_metrics {
  /// Messages stored by the rooms whose home is this node.
  std::atomic<uint64_t> room_messages{0};
  /// Stored messages those rooms sent to relays on this node...
  std::atomic<uint64_t> relay_messages_local{0};
  /// ...and to relays on other nodes (one per node with members: the
  /// inter-node fan-out). Per room message, this grows by the number of other
  /// nodes with members.
  std::atomic<uint64_t> relay_messages_remote{0};
  /// Users whose presence this node holds (online, watched, or offline for
  /// less than the idle time): a gauge.
  std::atomic<uint64_t> presence_users{0};

  /// The Prometheus text exposition of these counters.
  [[nodiscard]] std::string prometheus() const;
};

} // namespace chat::actors
