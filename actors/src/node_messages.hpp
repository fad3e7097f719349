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

#include "chat/actors/frame.hpp"
#include "chat/actors/messages.hpp"
#include "chat/actors/wire.hpp"

// Messages between the actors of a node and across nodes. Types that cross
// nodes (rooms, relays, presence, the directory) have a wire name and an
// `inspect` below, are listed in `node_types` and registered from that list by
// `register_types`; cluster_test round-trips each through CAF's serializer.
// Types that never leave a node (they carry outboxes) are registered as
// local-only ("unsafe") at the end of this file.

namespace chat::msg {

struct relay_join;
struct relay_leave;
struct relay_msg;
struct relay_event;
struct relay_unicast;
struct room_post;
struct post_result;
struct room_typing;
struct room_read;
struct room_signal;
struct room_nodes_of;

/// Relay: look for the room's new home again `(rejoin_atom, attempt)` after
/// an attempt failed.
using rejoin_atom = caf::atom_constant<caf::atom("rejoin")>;

/// Relay: continue a member's replay `(replay_atom, actor_id, generation)` once
/// its outbox has drained.
using replay_atom = caf::atom_constant<caf::atom("replay")>;

/// Room, relay: check whether it has been idle long enough to passivate.
using idle_atom = caf::atom_constant<caf::atom("idle")>;

/// A node's relay of one room: what its node's connections ask (joins, and
/// what they send to the room, passed on to wherever the room is) and what the
/// room fans out to it; its own timers.
using relay_actor = caf::typed_actor<
  caf::replies_to<relay_join>::with<bool>, caf::replies_to<relay_leave>::with<bool>,
  caf::reacts_to<relay_msg>, caf::reacts_to<relay_event>, caf::reacts_to<relay_unicast>,
  caf::replies_to<room_post>::with<post_result>, caf::reacts_to<room_typing>,
  caf::replies_to<room_read>::with<bool>, caf::replies_to<room_signal>::with<bool>,
  caf::reacts_to<rejoin_atom, int>, caf::reacts_to<replay_atom, caf::actor_id, uint64_t>,
  caf::reacts_to<idle_atom, uint64_t>>;

// -- rooms: the room actor lives on the room's home node; each node with
// members has one relay per room, which fans out to the node's connections ---

/// Local: a connection joins a room through its node's relay, which pushes
/// `joined` and the replay into `out` itself (so that nothing can overtake
/// them), and `joined` into `reply` too for a join made through POST /rpc.
struct relay_join {
  caf::actor conn;
  std::string user;
  std::shared_ptr<actors::outbox> out;
  std::string ref;
  bool has_since = false;
  uint64_t since = 0;
  std::shared_ptr<actors::outbox> reply;
};

/// Local: a connection leaves (the relay also notices when it stops).
struct relay_leave {
  caf::actor conn;
};

/// Relay -> room: a connection of `user` on the relay's node joins. The reply
/// is room_joined; the room counts the connection as a member from then on.
struct room_join {
  caf::actor conn;
  std::string user;
  relay_actor relay;
  std::string ref;
};

/// Room -> relay: the `joined` frame and the room's last seq at the join.
struct room_joined {
  actors::frame joined;
  uint64_t seq = 0;
  uint64_t trimmed = 0; ///< retention removed every message up to here
};

struct room_leave {
  caf::actor conn;
};

/// A member posts a message; the reply (post_result) comes after the commit.
struct room_post {
  std::string user;
  std::string id;
  std::string body;
};

struct post_result {
  uint64_t seq = 0;
  bool dup = false;
};

/// An ephemeral typing signal from a member.
struct room_typing {
  caf::actor conn;
  std::string user;
};

/// Relay -> room: up to `limit` stored messages after `after`, oldest first, as
/// frames (a member's catch-up). The reply is seq_frames.
struct room_fetch {
  uint64_t after = 0;
  uint32_t limit = 256;
};

struct seq_frame {
  uint64_t seq = 0;
  actors::frame frame;
};

using seq_frames = std::vector<seq_frame>;

/// Room -> relay: the messages stored by one commit, in seq order, sent once
/// per relay (once per node). One message per commit rather than per stored
/// message: under load a commit holds many, and each message across nodes
/// costs its own BASP header, serialization and allocations.
struct relay_msg {
  seq_frames frames;
};

/// Room -> relay: an event for every caught-up member except the connections of
/// `except_user` (empty: none). Ephemeral events are dropped first under load.
struct relay_event {
  actors::frame frame;
  bool ephemeral = false;
  std::string except_user;
};

/// Room -> relay: an event for these connections (actor ids on the relay's node).
struct relay_unicast {
  std::vector<caf::actor_id> conns;
  actors::frame frame;
};

// Directory requests. Any node's directory answers them: it forwards a request
// for a room or user whose home is another node to that node's directory,
// once (`hops` 1); a forwarded request is always answered where it lands, so
// two nodes with momentarily different views cannot bounce it forever.

/// Directory: the (possibly freshly activated) actor of a room, on its home node.
struct resolve_room {
  std::string room;
  uint8_t hops = 0;
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

/// Local directory: `(replicas_atom, room)` -> room_nodes_of, or why this node
/// may not write the room now (ADR 8, the take-over quorum).
using replicas_atom = caf::atom_constant<caf::atom("replicas")>;

/// Room: its home moved to another node. It refuses new posts, finishes the
/// commit in flight, answers true and stops (its relays find the new home).
using moving_atom = caf::atom_constant<caf::atom("moving")>;

/// Local directory: this node's relay of a room (spawned on demand).
struct resolve_relay {
  std::string room;
};

/// Directory: a history read on the room's home node; the reply is the
/// `history` frame (with `ref`) or an error.
struct read_history {
  std::string room;
  history_window window;
  std::string ref;
  uint8_t hops = 0;
};

/// A room asks its node's directory to forget it before it stops (passivation):
/// `(passivate_room_atom, room)` -> bool.
using passivate_room_atom = caf::atom_constant<caf::atom("pasv_room")>;

/// The same for a relay: `(passivate_relay_atom, room)` -> bool.
using passivate_relay_atom = caf::atom_constant<caf::atom("pasv_relay")>;

/// A member reads up to `seq`; the reply comes once the receipt is stored.
struct room_read {
  caf::actor conn;
  std::string user;
  uint64_t seq = 0;
};

/// WebRTC signaling: `data` (JSON text) goes to every connection of `to` in the room.
struct room_signal {
  caf::actor conn;
  std::string from;
  std::string to;
  std::string data;
};

/// Room: the users with at least one connection joined -> std::vector<std::string>.
using members_atom = caf::atom_constant<caf::atom("members")>;

/// Room (to itself): send the coalesced membership changes of a big room.
using roster_atom = caf::atom_constant<caf::atom("roster")>;

/// Room: `(trim_atom, seq)`: retention removed its messages up to seq (never
/// replay them from memory). Store: see store_messages.hpp.
using trim_atom = caf::atom_constant<caf::atom("trim")>;

/// A room's actor, on its home node: what relays (and the server-side publish)
/// ask of it, what its directory tells it, its own timers.
using room_actor = caf::typed_actor<
  caf::replies_to<room_join>::with<room_joined>, caf::reacts_to<room_leave>,
  caf::replies_to<room_fetch>::with<seq_frames>, caf::reacts_to<trim_atom, uint64_t>,
  caf::replies_to<room_post>::with<post_result>, caf::reacts_to<room_typing>,
  caf::replies_to<room_read>::with<bool>, caf::replies_to<room_signal>::with<bool>,
  caf::replies_to<moving_atom>::with<bool>, caf::replies_to<read_history>::with<actors::frame>,
  caf::replies_to<members_atom>::with<std::vector<std::string>>, caf::reacts_to<roster_atom>,
  caf::reacts_to<idle_atom, uint64_t>>;

// -- presence -----------------------------------------------------------------

// A user's presence lives in one of its home node's presence shards (an actor
// per shard of users, not per user: see docs/architecture.md); every message
// names the user.

/// A connection of the user exists or is alive (also its first registration).
struct presence_heartbeat {
  caf::actor conn;
  std::string user;
};

struct presence_disconnect {
  caf::actor conn;
  std::string user;
};

/// A connection watches this user; the reply is the current presence_info, and
/// changes follow as presence_event messages.
struct presence_watch {
  caf::actor conn;
  std::string user;
};

struct presence_unwatch {
  caf::actor conn;
  std::string user;
};

/// The user's current presence_info (no watching).
struct presence_query {
  std::string user;
};

struct presence_info {
  std::string user;
  bool online = false;
  int64_t last_seen = 0; ///< ms since the epoch, 0 = never
};

/// A published presence change, sent to each watching connection actor with
/// the event frame already serialized (once for all watchers).
struct presence_event {
  presence_info info;
  actors::frame frame;
};

/// Presence shard -> connection: `(presence_moved_atom, user)`: the user's home
/// moved to another node (a node joined); register or watch it there.
using presence_moved_atom = caf::atom_constant<caf::atom("pmoved")>;

/// Connection: `(rewatch_atom, user, epoch)`: watch a user again on its new home.
using rewatch_atom = caf::atom_constant<caf::atom("rewatch")>;

/// Presence shard timers: `(publish_atom, user)` ends a coalescing window;
/// `expire_atom` sweeps silent devices and idle users.
using publish_atom = caf::atom_constant<caf::atom("publish")>;

using expire_atom = caf::atom_constant<caf::atom("expire")>;

/// A presence shard, on its users' home node: what connections (of any node)
/// and the server's presence lookup ask, the view, its own timers.
using presence_shard_actor =
  caf::typed_actor<caf::reacts_to<presence_heartbeat>, caf::reacts_to<presence_disconnect>,
                   caf::replies_to<presence_watch>::with<presence_info>,
                   caf::reacts_to<presence_unwatch>,
                   caf::replies_to<presence_query>::with<presence_info>,
                   caf::reacts_to<publish_atom, std::string>, caf::reacts_to<expire_atom>,
                   caf::reacts_to<cluster_view>>;

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
  caf::replies_to<handover_atom>::with<bool>, caf::replies_to<shutdown_atom>::with<bool>>;

/// Who a take-over of a room asks, from one view (two asks could straddle a
/// view change and count nodes the take-over never prepares): the directories
/// of every other node it reaches, and of those that keep the room's log (its
/// replica set after the home).
struct room_nodes_of {
  std::vector<directory_actor> peers;
  std::vector<directory_actor> replicas;
};

// -- every type that crosses nodes: its wire name and inspect --------------------

CHAT_WIRE_TYPE(room_join, x.conn, x.user, x.relay, x.ref)

CHAT_WIRE_TYPE(room_joined, x.joined, x.seq, x.trimmed)

CHAT_WIRE_TYPE(room_leave, x.conn)

CHAT_WIRE_TYPE(room_post, x.user, x.id, x.body)

CHAT_WIRE_TYPE(post_result, x.seq, x.dup)

CHAT_WIRE_TYPE(room_typing, x.conn, x.user)

CHAT_WIRE_TYPE(room_fetch, x.after, x.limit)

CHAT_WIRE_TYPE(seq_frame, x.seq, x.frame)

CHAT_WIRE_TYPE(relay_msg, x.frames)

CHAT_WIRE_TYPE(relay_event, x.frame, x.ephemeral, x.except_user)

CHAT_WIRE_TYPE(relay_unicast, x.conns, x.frame)

CHAT_WIRE_TYPE(resolve_room, x.room, x.hops)

CHAT_WIRE_TYPE(find_room, x.room, x.hops)

CHAT_WIRE_TYPE(resolve_user, x.user, x.hops)

CHAT_WIRE_TYPE(read_history, x.room, x.window, x.ref, x.hops)

CHAT_WIRE_TYPE(room_read, x.conn, x.user, x.seq)

CHAT_WIRE_TYPE(room_signal, x.conn, x.from, x.to, x.data)

CHAT_WIRE_TYPE(presence_heartbeat, x.conn, x.user)

CHAT_WIRE_TYPE(presence_disconnect, x.conn, x.user)

CHAT_WIRE_TYPE(presence_watch, x.conn, x.user)

CHAT_WIRE_TYPE(presence_unwatch, x.conn, x.user)

CHAT_WIRE_TYPE(presence_query, x.user)

CHAT_WIRE_TYPE(presence_info, x.user, x.online, x.last_seen)

CHAT_WIRE_TYPE(presence_event, x.info, x.frame)

CHAT_WIRE_TYPE(room_import, x.room, x.records, x.meta, x.receipt_users, x.receipt_seqs)

CHAT_WIRE_TYPE(room_pull, x.room, x.after)

CHAT_WIRE_TYPE(room_prepare, x.room, x.ballot_n, x.ballot_node)

CHAT_WIRE_TYPE(room_promise, x.ok, x.meta)

CHAT_WIRE_TYPE(room_replicate, x.room, x.after, x.records, x.meta, x.receipt_users,
               x.receipt_seqs, x.from, x.last)

CHAT_WIRE_NAME(seq_frames, "chat::msg::seq_frames")

// Handles that are answers across nodes (a directory's resolve_room, find_room
// and resolve_user).
CHAT_WIRE_NAME(room_actor, "chat::msg::room_actor")

CHAT_WIRE_NAME(presence_shard_actor, "chat::msg::presence_shard_actor")

// caf::actor_id is uint64_t: one registration serves relay_unicast's ids and
// the receipts' seqs.
CHAT_WIRE_NAME(std::vector<uint64_t>, "std::vector<uint64_t>")

/// Every type that crosses nodes besides the client commands (actor_commands):
/// register_types registers these, under their wire names, and nothing else.
using node_types =
  type_list<actors::frame, room_join, room_joined, room_leave, room_post, post_result,
            room_typing, room_fetch, seq_frame, relay_msg, relay_event, relay_unicast,
            resolve_room, find_room, resolve_user, read_history, room_read, room_signal,
            presence_heartbeat, presence_disconnect, presence_watch, presence_unwatch,
            presence_query, presence_info, presence_event, room_import, room_pull, room_prepare,
            room_promise, room_replicate, seq_frames, std::vector<uint64_t>, room_actor,
            presence_shard_actor>;

} // namespace chat::msg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::relay_join)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::relay_leave)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::resolve_relay)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::room_nodes_of)
