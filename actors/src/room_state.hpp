#pragma once

// The room actor's state, shared by its two files: room_actor.cpp (joins,
// posts, the commit and the fan-out) and room_activation.cpp (loading the log
// and taking it over before anything is handled).

#include <chrono>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/stateful_actor.hpp>

#include "chat/actors/metrics.hpp"
#include "recent_frames.hpp"
#include "room_replication.hpp"
#include "room_roster.hpp"
#include "store_messages.hpp"

namespace chat::actors::room {

struct member {
  std::string user;
  msg::relay_actor relay; ///< the relay of the member's node
};

struct relay_entry {
  msg::relay_actor relay;
  size_t members = 0; ///< its connections that are members
  std::string node;   ///< its node's id
};

struct pending_post {
  storage::append_entry entry;
  caf::typed_response_promise<msg::post_result> promise;
  int64_t received_us = 0; ///< wall clock (the delivery latency is measured across nodes)
};

struct room_state {
  std::string room;
  std::string node_id;
  msg::store_actor store;
  msg::directory_actor directory;
  std::chrono::milliseconds idle{60000};
  storage::room_meta meta;
  /// The other nodes that keep the log (ADR 8): an append is acked once all hold it.
  room_nodes nodes;
  /// Every member connection in the cluster, by its (node-unique) address.
  std::unordered_map<caf::actor_addr, member> members;
  room_roster roster; ///< the users in the room, and what is said about them
  /// One relay per node with members: the fan-out sends each message once per relay.
  std::unordered_map<caf::actor_addr, relay_entry> relays;
  std::vector<pending_post> pending;
  bool in_flight = false;
  recent_frames recent;
  uint64_t idle_epoch = 0;
  std::unordered_map<std::string, uint64_t> receipts;      ///< user -> read seq
  std::unordered_map<std::string, int64_t> last_typing_ms; ///< user -> last relayed
  std::shared_ptr<node_metrics> metrics;
  /// The room's home moved: answered once the last commit is done.
  caf::typed_response_promise<bool> moved;
  bool moving = false;
  static inline const char* name = "room";
};

/// Loads the room's log (meta, receipts) and, in a cluster, takes it over
/// (ADR 8). The room quits when either fails; awaited, so nothing else is
/// handled meanwhile.
void activate(room_self self);

/// Takes a post into the room's next append (room_commit.cpp: one append in
/// flight; acked once every replica holds it, then fanned out), or refuses it
/// (moving, overloaded).
caf::result<msg::post_result> post(room_self self, msg::room_post& x);

/// A moving room answers its mover and stops once nothing it accepted is still
/// uncommitted.
void finish_move(room_self self);

/// The room as the admin API shows it (room_inspection.cpp).
frame inspect(room_self self);

} // namespace chat::actors::room
