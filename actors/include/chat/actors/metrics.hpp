#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "chat/runtime/histogram.hpp"

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
  /// Stored messages this node's relays pushed to member connections (the
  /// fan-out: one per message and member connection, replays not counted).
  std::atomic<uint64_t> deliveries{0};
  /// Ephemeral frames (typing, presence) dropped for a full outbound queue.
  std::atomic<uint64_t> outbox_drops{0};
  /// Connections whose outbound queue overflowed with a stored message: closed
  /// as slow consumers (WebSocket 1013 `slow_consumer`).
  std::atomic<uint64_t> slow_consumers{0};

  /// The kinds whose longest mailbox is kept (chat_mailbox_high_water).
  enum class actor_kind : uint8_t { room, relay, store, presence_shard };
  static constexpr const char* actor_kind_names[] = {"room", "relay", "store",
                                                     "presence_shard"};
  /// The longest mailbox seen per kind since the node started, sampled where
  /// each kind takes its main work (a room per post, a relay per commit it fans
  /// out, the store per append, a presence shard per heartbeat): one relaxed
  /// load, and a store only when it grew.
  std::array<std::atomic<uint64_t>, 4> mailbox_high{};
  void note_mailbox(actor_kind k, uint64_t size) noexcept {
    auto& high = mailbox_high[static_cast<size_t>(k)];
    auto seen = high.load(std::memory_order_relaxed);
    while (size > seen && !high.compare_exchange_weak(seen, size, std::memory_order_relaxed)) {
    }
  }

  // Replication (ADR 8).
  std::atomic<uint64_t> activations{0};     ///< room actors started (loaded) here
  std::atomic<uint64_t> takeovers{0};       ///< rooms this node took over
  std::atomic<uint64_t> takeover_us_sum{0}; ///< how long those took, summed
  std::atomic<uint64_t> takeover_us_max{0};
  std::atomic<uint64_t> adopted_records{0}; ///< records taken from a better log
  std::atomic<uint64_t> catchup_parts{0};   ///< log parts written onto replicas in take-overs
  std::atomic<uint64_t> replicated_batches{0}; ///< appends confirmed by every replica
  std::atomic<uint64_t> replicate_us_sum{0};   ///< commit-to-all-replicas time, summed
  std::atomic<uint64_t> replicate_us_last{0};  ///< the same for the newest confirmed batch
  std::atomic<uint64_t> replica_lag_records{
    0};                            ///< stored here, not yet confirmed by every replica
  std::atomic<uint64_t> fenced{0}; ///< writes refused: a newer home took over
  std::atomic<uint64_t> replica_failures{0}; ///< a replica behind or silent: stepped down
  std::atomic<uint64_t> view_changes{0};     ///< cluster views this node's directory applied
  std::atomic<uint64_t> nodes_up{1};         ///< nodes in the last view (this one included)
  std::atomic<uint64_t> members{1};          ///< members known, down ones included
  std::atomic<uint64_t> member_set{0};       ///< the membership log index of those members
  std::atomic<uint64_t> short_copies{0}; ///< the view's `copies`: 0, or rooms may have this few
  std::atomic<uint64_t> connections{0};  ///< open client connections (the gateway's)
  std::atomic<uint64_t> storage_failing{0};  ///< 1 while the store's writes fail
  std::atomic<uint64_t> storage_failures{0}; ///< group commits that failed
  std::atomic<uint64_t> trimmed_messages{0}; ///< removed by retention
  std::atomic<uint64_t> forgotten_ids{0};    ///< ids past the dedupe window

  // Distributions (microseconds or counts; /metrics shows base units).
  /// A group commit: the RocksDB WriteBatch (and its fsync) of one group.
  runtime::histogram store_commit_us{runtime::histogram::latency_us()};
  /// Room appends per group commit (how well the group commit batches).
  runtime::histogram store_batch_appends{{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000}};
  /// A send, from the room's receiving it to its ack (commit and replicas).
  runtime::histogram send_ack_us{runtime::histogram::latency_us()};
  /// A stored message, from the room's receiving it to its relay on a node
  /// pushing it to that node's members (wall clocks: across nodes, their skew).
  runtime::histogram delivery_us{runtime::histogram::latency_us()};

  /// The Prometheus text exposition of these counters.
  [[nodiscard]] std::string prometheus() const;
};

} // namespace chat::actors
