#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "presence_messages.hpp"
#include "room_messages.hpp"

// The directory: where rooms, relays and users live, and the room-log
// requests of ADR 8 that other nodes' rooms send to a node's store through
// its directory. Its interface: directory_actor.

namespace chat::msg {

struct room_nodes_of;

// Directory requests. Any node's directory answers them: it forwards a request
// for a room or user whose home is another node to that node's directory,
// once (`hops` 1); a forwarded request is always answered where it lands, so
// two nodes with momentarily different views cannot bounce it forever.

/// Directory: the (possibly freshly activated) actor of a room, on its home node.
struct resolve_room {
  std::string room;
  uint8_t hops = 0;
};

/// Directory: the admin API's view of a room (a frame), on the room's home node:
/// from its actor when it is active, else from the store (not_found when the
/// room has no log there).
struct inspect_room {
  std::string room;
  uint8_t hops = 0;
};

/// Directory (admin): stop the room's actor on its home after its commit in
/// flight -> an `ok` frame, or not_found for a room without a log.
struct stop_room {
  std::string room;
  uint8_t hops = 0;
};

/// Directory (admin): the active rooms of the cluster whose names start with
/// `prefix` and come after `after`, by name, at most `limit` (+1: whether there
/// is more) -> room_list. Asked of one node (hops 0), which asks every node
/// (hops 1) for its own and merges.
struct list_rooms {
  std::string prefix;
  std::string after;
  uint32_t limit = 100;
  uint8_t hops = 0;
};

struct room_list {
  /// The names the page is made of, summarized or not: a room whose summary
  /// did not come (it stopped meanwhile) must not end the pages early.
  std::vector<std::string> names;
  std::vector<room_summary> rooms; ///< the summaries that came, by name
};

/// Directory: the room's actor if it is active (on its home node), else an
/// invalid handle.
struct find_room {
  std::string room;
  uint8_t hops = 0;
};

/// Directory: the presence shard of a user, on the user's home node.
struct resolve_user {
  std::string user;
  uint8_t hops = 0;
};

/// A part of a room's log handed over to its new home node (records and meta
/// in the storage encoding). The last part carries the meta and receipts.
struct room_import {
  std::string room;
  std::vector<std::string> records;
  std::string meta; ///< empty except in the last part
  std::vector<std::string> receipt_users;
  std::vector<uint64_t> receipt_seqs;
};

/// Directory: the part of `room`'s stored log after `after` (at most 1000
/// records) -> room_import; a part with fewer records is the last and carries
/// the meta and receipts. Asked by a room's new home when the room activates
/// there. A room actor still active on the asked node stops first (after its
/// commit in flight), so nothing is appended there after the answer.
struct room_pull {
  std::string room;
  uint64_t after = 0;
};

/// ADR 8, phase one of a room's activation on its home: asks a node (its
/// directory) to refuse, from now on and durably, every write to `room` under a
/// ballot older than (ballot_n, ballot_node) -> room_promise. A room actor still
/// active on the asked node stops first (after its commit in flight).
struct room_prepare {
  std::string room;
  uint64_t ballot_n = 0;
  std::string ballot_node;
};

/// The answer to room_prepare: `ok` when the node promised that ballot (not a
/// newer one), and where its log of the room stands (an encoded room_meta).
struct room_promise {
  bool ok = false;
  std::string meta;
};

/// ADR 8: a room's home writing its log onto a replica (or onto itself, when it
/// takes a better log it collected): the part after `after` becomes `records`
/// (encoded, gap-free), the meta becomes `meta` (encoded; its `promised` is the
/// sender's ballot, its `accepted` the writer of the log the records come
/// from), and receipts are written if given -> uint64_t, the
/// replica's last seq afterwards. A smaller answer than the part's end means
/// "behind: send from there". Refused with errc::fenced under an older ballot.
struct room_replicate {
  std::string room;
  uint64_t after = 0;
  std::vector<std::string> records;
  std::string meta;
  std::vector<std::string> receipt_users;
  std::vector<uint64_t> receipt_seqs;
  /// A copy in parts starts after `from` and changes the log only with its
  /// `last` part (storage::room_rewrite); an append: from == after, last.
  uint64_t from = 0;
  bool last = true;
};

/// Directory, across nodes: `(summary_atom)` -> node_summary: what a node says
/// of itself in the admin API's node list.
using summary_atom = caf::atom_constant<caf::atom("summary")>;
struct node_summary {
  std::string node_id;
  std::string http;   ///< its HTTP base URL; empty until its gateway listens
  std::string status; ///< "up", "joining" or "leaving"
  uint64_t connections = 0;
  uint64_t rooms = 0;      ///< room actors active there (rooms homed there in use)
  caf::actor inspector;    ///< its inspector (the admin API's questions about connections)
  uint64_t messages = 0;   ///< stored by the rooms homed there, since it started
  uint64_t deliveries = 0; ///< pushed to member connections there, since it started
  /// chat_delivery_seconds' cumulative bucket counts (bounds: latency_us()).
  std::vector<uint64_t> delivery;
};
/// Local directory: `(nodes_atom)` -> frame: the admin API's node list
/// (docs/protocol.md), from the summaries of every node up and the view.
using nodes_atom = caf::atom_constant<caf::atom("nodes")>;
/// Local directory: `(actors_atom)` -> (rooms, relays, presence shards, its
/// own mailbox size, its state as JSON): the actors it keeps and what it knows
/// of the cluster (the admin API's actors by kind).
using actor_handles = std::vector<caf::actor>;
/// Local directory: `(http_atom, url)`: where this node's gateway listens.
using http_atom = caf::atom_constant<caf::atom("http")>;

/// Local directory: `(replicas_atom, room)` -> room_nodes_of, or why this node
/// may not write the room now (ADR 8, the take-over quorum).
using replicas_atom = caf::atom_constant<caf::atom("replicas")>;

/// Local directory: this node's relay of a room (spawned on demand).
struct resolve_relay {
  std::string room;
};

/// A room asks its node's directory to forget it before it stops (passivation):
/// `(passivate_room_atom, room)` -> bool.
using passivate_room_atom = caf::atom_constant<caf::atom("pasv_room")>;

/// The same for a relay: `(passivate_relay_atom, room)` -> bool.
using passivate_relay_atom = caf::atom_constant<caf::atom("pasv_relay")>;

/// Store and directory: `(accept_atom, room_prepare)` -> room_promise: the
/// promise, and that the ballot wrote the log as it stands (a new home whose
/// log, its own or copied, is whole; a replica that took it all).
using accept_atom = caf::atom_constant<caf::atom("accept")>;

/// Flush and stop: the store (everything to disk) and the directory (its
/// rooms, relays and shards) answer true; sent at shutdown.
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;

/// A node's directory: where rooms, relays and users live (activating them),
/// the room-log requests of ADR 8 that other nodes' rooms send to this node's
/// store, and what the membership tells it.
using directory_actor = caf::typed_actor<
  caf::replies_to<resolve_room>::with<room_actor>,
  caf::replies_to<resolve_user>::with<presence_shard_actor>,
  caf::replies_to<read_history>::with<actors::frame>,
  caf::replies_to<find_room>::with<room_actor>,
  caf::replies_to<inspect_room>::with<actors::frame>,
  caf::replies_to<stop_room>::with<actors::frame>, caf::replies_to<list_rooms>::with<room_list>,
  caf::replies_to<resolve_relay>::with<relay_actor>, caf::reacts_to<cluster_view>,
  caf::replies_to<node_leaving_atom, std::string>::with<bool>,
  caf::reacts_to<joining_atom, bool>, caf::replies_to<room_pull>::with<room_import>,
  caf::replies_to<room_prepare>::with<room_promise>,
  caf::replies_to<accept_atom, room_prepare>::with<room_promise>,
  caf::replies_to<room_replicate>::with<uint64_t>,
  caf::replies_to<replicas_atom, std::string>::with<room_nodes_of>,
  caf::reacts_to<trim_atom, std::string, uint64_t>,
  caf::replies_to<passivate_room_atom, std::string>::with<bool>,
  caf::replies_to<passivate_relay_atom, std::string>::with<bool>,
  caf::replies_to<handover_atom>::with<bool>, caf::replies_to<shutdown_atom>::with<bool>,
  caf::replies_to<repair_atom>::with<uint64_t, uint64_t>,
  caf::replies_to<repair_atom, nodes_atom>::with<actors::frame>,
  caf::replies_to<repair_atom, std::string>::with<uint64_t, uint64_t>,
  caf::replies_to<gone_atom, std::string>::with<bool>,
  caf::replies_to<gone_atom, std::string, bool>::with<bool>,
  caf::replies_to<remove_atom, std::string>::with<actors::frame>,
  caf::replies_to<summary_atom>::with<node_summary>,
  caf::replies_to<nodes_atom>::with<actors::frame>, caf::reacts_to<http_atom, std::string>,
  caf::replies_to<actors_atom>::with<actor_handles, actor_handles, actor_handles, uint64_t,
                                     actors::frame>>;

/// Who a take-over of a room asks, from one view (two asks could straddle a
/// view change and count nodes the take-over never prepares): the directories
/// of every other node it reaches, and of those that keep the room's log (its
/// replica set after the home).
struct room_nodes_of {
  std::vector<directory_actor> peers;
  std::vector<directory_actor> replicas;
  std::vector<std::string> replica_ids; ///< the node ids of `replicas`
  uint64_t epoch = 0;                   ///< cluster_view::epoch
  uint64_t committed = 0;               ///< cluster_view::committed
};

// -- wire names and inspect (node_messages.hpp lists them) --------------------

CHAT_WIRE_TYPE(resolve_room, x.room, x.hops)

CHAT_WIRE_TYPE(find_room, x.room, x.hops)

CHAT_WIRE_TYPE(inspect_room, x.room, x.hops)

CHAT_WIRE_TYPE(stop_room, x.room, x.hops)

CHAT_WIRE_TYPE(list_rooms, x.prefix, x.after, x.limit, x.hops)

CHAT_WIRE_TYPE(room_list, x.names, x.rooms)

CHAT_WIRE_TYPE(node_summary, x.node_id, x.http, x.status, x.connections, x.rooms, x.inspector,
               x.messages, x.deliveries, x.delivery)

CHAT_WIRE_TYPE(resolve_user, x.user, x.hops)

CHAT_WIRE_TYPE(room_import, x.room, x.records, x.meta, x.receipt_users, x.receipt_seqs)

CHAT_WIRE_TYPE(room_pull, x.room, x.after)

CHAT_WIRE_TYPE(room_prepare, x.room, x.ballot_n, x.ballot_node)

CHAT_WIRE_TYPE(room_promise, x.ok, x.meta)

CHAT_WIRE_TYPE(room_replicate, x.room, x.after, x.records, x.meta, x.receipt_users,
               x.receipt_seqs, x.from, x.last)

} // namespace chat::msg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::resolve_relay)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::room_nodes_of)
