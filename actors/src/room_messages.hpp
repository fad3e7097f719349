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

// Rooms and relays: what a node's relay of a room and the room's actor (on
// its home node) send each other, and what the relay takes from its node's
// connections. Their interfaces: relay_actor, room_actor.

namespace chat::msg {

// -- rooms: the room actor lives on the room's home node; each node with
// members has one relay per room, which fans out to the node's connections ---

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
  caf::reacts_to<idle_atom, uint64_t>,
  caf::replies_to<inspect_atom, mailbox_atom>::with<uint64_t>>;

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
  std::string node; ///< the relay's node id (the admin API shows where members are)
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
  /// When the room received the message (wall µs), for the delivery latency
  /// (a live fan-out only; 0 in a replay).
  int64_t received_us = 0;
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

/// Room: its home moved to another node. It refuses new posts, finishes the
/// commit in flight, answers true and stops (its relays find the new home).
using moving_atom = caf::atom_constant<caf::atom("moving")>;

/// Directory: a history read on the room's home node; the reply is the
/// `history` frame (with `ref`) or an error.
struct read_history {
  std::string room;
  history_window window;
  std::string ref;
  uint8_t hops = 0;
};

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

/// Admin: `(inspect_atom)` -> frame: the room's state as the admin API's JSON
/// (docs/protocol.md, "Admin API"). inspect_atom: messages.hpp.

/// Admin: a room in a list of rooms: `(inspect_atom, summary_atom)` ->
/// room_summary.
using summary_atom = caf::atom_constant<caf::atom("summary")>;

struct room_summary {
  std::string room;
  std::string home;
  uint64_t seq = 0;
  uint32_t members = 0; ///< member connections
  uint64_t mailbox = 0; ///< messages waiting for the room's actor
};

/// A room's actor, on its home node: what relays (and the server-side publish)
/// ask of it, what its directory tells it, its own timers.
using room_actor = caf::typed_actor<
  caf::replies_to<room_join>::with<room_joined>, caf::reacts_to<room_leave>,
  caf::replies_to<room_fetch>::with<seq_frames>, caf::reacts_to<trim_atom, uint64_t>,
  caf::replies_to<room_post>::with<post_result>, caf::reacts_to<room_typing>,
  caf::replies_to<room_read>::with<bool>, caf::replies_to<room_signal>::with<bool>,
  caf::replies_to<moving_atom>::with<bool>, caf::replies_to<read_history>::with<actors::frame>,
  caf::replies_to<members_atom>::with<std::vector<std::string>>, caf::reacts_to<roster_atom>,
  caf::reacts_to<idle_atom, uint64_t>, caf::replies_to<inspect_atom>::with<actors::frame>,
  caf::replies_to<inspect_atom, summary_atom>::with<room_summary>>;

// -- wire names and inspect (node_messages.hpp lists them) --------------------

CHAT_WIRE_TYPE(room_join, x.conn, x.user, x.relay, x.ref, x.node)

CHAT_WIRE_TYPE(room_joined, x.joined, x.seq, x.trimmed)

CHAT_WIRE_TYPE(room_summary, x.room, x.home, x.seq, x.members, x.mailbox)

CHAT_WIRE_TYPE(room_leave, x.conn)

CHAT_WIRE_TYPE(room_post, x.user, x.id, x.body)

CHAT_WIRE_TYPE(post_result, x.seq, x.dup)

CHAT_WIRE_TYPE(room_typing, x.conn, x.user)

CHAT_WIRE_TYPE(room_fetch, x.after, x.limit)

CHAT_WIRE_TYPE(seq_frame, x.seq, x.frame, x.received_us)

CHAT_WIRE_TYPE(relay_msg, x.frames)

CHAT_WIRE_TYPE(relay_event, x.frame, x.ephemeral, x.except_user)

CHAT_WIRE_TYPE(relay_unicast, x.conns, x.frame)

CHAT_WIRE_TYPE(read_history, x.room, x.window, x.ref, x.hops)

CHAT_WIRE_TYPE(room_read, x.conn, x.user, x.seq)

CHAT_WIRE_TYPE(room_signal, x.conn, x.from, x.to, x.data)

CHAT_WIRE_NAME(seq_frames, "chat::msg::seq_frames")

// A handle that is an answer across nodes (a directory's resolve_room, find_room).
CHAT_WIRE_NAME(room_actor, "chat::msg::room_actor")

} // namespace chat::msg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::relay_join)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::relay_leave)
