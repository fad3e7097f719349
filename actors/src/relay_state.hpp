#pragma once

// The relay actor's state, shared by its two files: relay_actor.cpp (joins,
// the fan-out, following the room when it moves) and relay_replay.cpp
// (bringing a member that joined with `since` up to the live stream).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "chat/actors/metrics.hpp"
#include "chat/actors/outbox.hpp"
#include "node_messages.hpp"
#include "recent_frames.hpp"

namespace chat::actors::relay {

struct local_member {
  caf::actor conn;
  std::string user;
  std::shared_ptr<outbox> out;
  uint64_t delivered = 0; ///< last seq pushed to this member
  uint64_t trimmed = 0;   ///< retention removed the room's messages up to here (at the join)
  bool live = false;      ///< caught up: receives the fan-out directly
  uint64_t generation = 0;
};

/// A member's join the room has not answered yet (see `joins`).
struct pending_join {
  msg::relay_join request;
  caf::typed_response_promise<bool> rp;
  int attempt = 1;
  caf::actor_addr home; ///< the room's actor it was sent to
};

struct relay_state {
  std::string room;
  std::string node_id; ///< this node's (the room tells the admin API where members are)
  msg::directory_actor directory;
  msg::room_actor home; ///< the room's actor, on its home node
  std::unordered_map<caf::actor_id, local_member> members;
  uint64_t seq = 0;     ///< the room's last seq as far as this relay knows
  recent_frames recent; ///< so that most joins with `since` replay from memory
  uint64_t generation = 0;
  uint64_t idle_epoch = 0;
  /// Members' requests the room has not answered yet, by a relay-local number.
  std::unordered_map<uint64_t, caf::response_promise> in_flight;
  /// Joins sent to a room's actor, by the same numbering. The room's end (its
  /// down message) settles them: its answers may be lost when it quits while
  /// activating (seen with CAF 0.17: a join sent then waited out its timeout).
  std::unordered_map<uint64_t, pending_join> joins;
  uint64_t last_request = 0;
  std::shared_ptr<node_metrics> metrics;
  static inline const char* name = "relay";
};

using relay_self = msg::relay_actor::stateful_pointer<relay_state>;

constexpr uint32_t replay_batch = 256;
/// An empty relay stops after this long (a reconnecting client usually returns sooner).
constexpr auto relay_idle = std::chrono::seconds(5);
constexpr int max_resolve_attempts = 10;
/// Bounds `in_flight`: the member itself gives up after 3 s.
constexpr auto room_request_timeout = std::chrono::seconds(5);
/// Finding the room's home (and joining it) crosses nodes, one of which may have
/// just failed: an answer that does not come within this is a failure (retried).
constexpr auto resolve_timeout = std::chrono::seconds(4);

/// Brings the member `key` up to the live stream (relay_replay.cpp).
void catch_up(relay_self self, caf::actor_id key);

} // namespace chat::actors::relay
