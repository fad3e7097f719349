#pragma once

// The directory's state, shared by its two files: directory_actor.cpp (the
// ring, rooms, relays, users, forwarding) and directory_log.cpp (the room-log
// requests of ADR 8 that other nodes' rooms send here for this node's store).

#include <chrono>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "chat/runtime/hash_ring.hpp"
#include "directory_actor.hpp"
#include "store_messages.hpp"

namespace chat::actors::directory {

/// Actors by name (a room's, or its relay on this node).
template <class Handle>
using actor_map = std::unordered_map<std::string, Handle>;

struct directory_state {
  actor_map<msg::room_actor> rooms; ///< room actors of the rooms whose home is this node
  /// Presence shards (spawned on first use) of the users homed here.
  std::vector<msg::presence_shard_actor> presence;
  actor_map<msg::relay_actor> relays; ///< this node's relays (rooms with members here)
  std::string node_id;
  std::string http; ///< where this node's gateway listens (the admin API's node list)
  /// Homes of rooms and users. Empty (everything is local) until the node is
  /// in a cluster.
  runtime::hash_ring ring;
  msg::cluster_view view; ///< the last view (told to presence shards spawned later)
  std::unordered_map<std::string, msg::directory_actor> peers; ///< node id -> its directory
  /// Nodes that said they are leaving: out of the ring and the peers already.
  std::set<std::string> leaving_nodes;
  /// The node is leaving the cluster: it hosts no room or user any more.
  bool leaving = false;
  /// The node is joining a cluster: requests it would answer as home wait in
  /// `held` (each sends its request here again) until its view is complete.
  bool joining = false;
  caf::actor repairing; ///< this node's repair worker while it runs (one at a time)
  std::set<std::string> repair_peers; ///< the other nodes up when it began
  /// A member being removed (directory_repair.cpp): out of the ring and the
  /// peers even if it comes back up, until `fenced_until_ms` (steady clock) or
  /// the removal ends, so that no room is placed on it behind the repair.
  std::string fenced;
  int64_t fenced_until_ms = 0;
  std::vector<std::function<void()>> held;
  static inline const char* name = "directory";
};

using directory_self = msg::directory_actor::stateful_pointer<directory_state>;

/// A store call that takes longer is answered with an error (the store is stuck).
constexpr auto store_timeout = std::chrono::seconds(10);
/// How long a pull or a prepare waits for the room active here to stop. Not
/// longer: the asking home gives up after 3 s. Answering earlier is safe: the
/// promise fences whatever the old room still writes (ADR 8).
constexpr auto moving_timeout = std::chrono::seconds(2);

/// Rebuilds the ring and the peers from the last view (without the nodes
/// leaving or fenced); rooms that must move stop.
void apply_view(directory_self self, uint32_t replication);

/// The room's actor active here (if any) is forgotten and stops after its
/// commit in flight; then `next` runs (at once when none is active), and
/// nothing more is appended to the room's log here until it is activated again.
void when_room_stopped(directory_self self, const std::string& name,
                       std::function<void()> next);

// -- the room-log requests of ADR 8 (directory_log.cpp) --------------------------

caf::result<msg::room_import> pull(directory_self self, const msg::store_actor& store,
                                   msg::room_pull& x);
caf::result<msg::room_promise> prepare(directory_self self, const msg::store_actor& store,
                                       msg::room_prepare& x);
caf::result<msg::room_promise> accept(directory_self self, const msg::store_actor& store,
                                      msg::room_prepare& x);
caf::result<uint64_t> replicate(directory_self self, const msg::store_actor& store,
                                msg::room_replicate& x);
/// The directories of the other nodes that keep `room` (its replica set after
/// the home), or why this node may not write it now.
caf::result<msg::room_nodes_of> replicas(directory_self self, uint32_t replication,
                                         const std::string& room);

// -- the repair and a member's removal (directory_repair.cpp) --------------------

/// After a loss (a member down, or removed): every room stored here is put
/// back onto R copies among the nodes up, one at a time (handover.hpp).
caf::result<uint64_t, uint64_t> repair(directory_self self, const msg::store_actor& store);
/// A repair on every node up (this one included), each in the background: the
/// answer (the admin API's) names the nodes asked; each logs its outcome.
frame repair_everywhere(directory_self self);
/// `(gone_atom, id)`: whether `id` is a member down here; if so it is fenced
/// (kept out of the ring and the peers, even once up again) for its removal.
/// A second removal while one is fenced is refused.
caf::result<bool> fence(directory_self self, uint32_t replication, const std::string& id);
/// `(gone_atom, id, false)`: the removal of `id` ended; its fence is lifted.
void lift_fence(directory_self self, uint32_t replication, const std::string& id);
/// Whether `id` is fenced here now.
bool is_fenced(directory_self self, const std::string& id);
/// A repair while `gone` is fenced here (refused otherwise); nothing to do
/// when every member holds every room (R >= members).
caf::result<uint64_t, uint64_t> repair_without(directory_self self,
                                               const msg::store_actor& store,
                                               uint32_t replication, const std::string& gone);
/// Removes a member gone for good (the admin API's): `{"removed","rooms"}`
/// once every node up repaired without it and the membership log removed it.
caf::result<frame> remove_member(directory_self self, const directory_options& opts,
                                 std::string id);

// -- the admin API's requests (directory_admin.cpp, directory_nodes.cpp) ---------

/// A room's view, on its home: from its actor when active (no activation just
/// to look), else from the store; not_found when the home has no log of it.
caf::result<frame> inspect(directory_self self, const directory_options& opts,
                           const msg::store_actor& store, msg::inspect_room& x);

/// Stops a room's actor on its home after its commit in flight (its members'
/// relays find it again, activated afresh): an `ok` frame, or not_found.
caf::result<frame> stop(directory_self self, const msg::store_actor& store, msg::stop_room& x);

/// A page of the cluster's active rooms (asked with hops 0: of every node).
caf::result<msg::room_list> list(directory_self self, msg::list_rooms& x);

/// The actors the directory keeps: rooms, relays, presence shards; its own
/// mailbox size and its state (ring, view, joining/leaving) as JSON.
std::tuple<msg::actor_handles, msg::actor_handles, msg::actor_handles, uint64_t, frame>
kept_actors(directory_self self, const directory_options& opts);

/// What this node says of itself in the node list.
msg::node_summary summary(directory_self self, const directory_options& opts);

/// The admin API's node list: every member of the view with the summary of
/// each node up (asked of it; a node that does not answer in 1 s is listed
/// without its numbers), the members down from the view.
caf::result<frame> list_nodes(directory_self self, const directory_options& opts);

} // namespace chat::actors::directory
