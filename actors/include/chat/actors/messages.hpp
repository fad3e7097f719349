#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "chat/actors/outbox.hpp"
#include "chat/storage/store.hpp"

// Messages between the node-local actors. None of them crosses nodes yet: they
// carry shared pointers (outboxes) and storage types, so they are registered as
// local-only ("unsafe") types. The cluster issue gives the cross-node ones an
// `inspect` and a serializer round-trip test.

namespace chat::msg {

/// A connection joins a room; the room pushes `joined` and the replay into `out`
/// itself (so that nothing can overtake them) and replies with its last seq.
/// A join made through POST /rpc also gets `joined` into `reply` (its answer).
struct room_join {
  caf::actor conn;
  std::string user;
  std::shared_ptr<actors::outbox> out;
  std::string ref;
  bool has_since = false;
  uint64_t since = 0;
  std::shared_ptr<actors::outbox> reply;
};

/// Sent ahead of a command in the same message (`reply_to, cmd_*`): the
/// command's one reply goes to `out` instead of the connection's stream. Used by
/// POST /rpc, where the answer belongs to the HTTP request, not the SSE/poll stream.
struct reply_to {
  std::shared_ptr<actors::outbox> out;
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

struct store_append {
  storage::room_append req;
};

struct store_load {
  std::string room;
};

/// Store a read receipt (group-committed); the reply comes after the commit.
struct store_receipt {
  storage::receipt_update update;
};

/// Store a user's last-seen time (group-committed, no reply).
struct store_last_seen {
  storage::last_seen_update update;
};

/// A room's stored receipts, as (user, seq).
struct store_load_receipts {
  std::string room;
};
using receipt_list = std::vector<std::pair<std::string, uint64_t>>;

/// A user's stored last-seen time; the reply is 0 when never seen.
struct store_load_last_seen {
  std::string user;
};

/// A history read: newest first below `before` (0 = from the end) or, with
/// `has_after`, oldest first above `after`.
struct store_read {
  std::string room;
  uint64_t before = 0;
  uint64_t after = 0;
  bool has_after = false;
  uint32_t limit = 50;
};

using message_list = std::vector<storage::message_record>;

/// Store: what the group commit has done so far (for tests and metrics).
struct store_stats {
  uint64_t appends = 0; ///< room appends committed
  uint64_t commits = 0; ///< WriteBatches written (one fsync each with sync durability)
};
using stats_atom = caf::atom_constant<caf::atom("stats")>;

/// Directory: the (possibly freshly activated) actor of a room.
struct resolve_room {
  std::string room;
};

/// Directory: the room's actor if it is active, else an invalid handle.
struct find_room {
  std::string room;
};

/// Directory: the (possibly freshly activated) presence actor of a user.
struct resolve_user {
  std::string user;
};

/// A room or presence actor asks the directory to forget it before it stops
/// (passivation): `(passivate_atom, bool is_user, std::string name)` -> bool.
using passivate_atom = caf::atom_constant<caf::atom("passivate")>;

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

// -- presence -----------------------------------------------------------------

/// A connection of the user exists or is alive (also its first registration).
struct presence_heartbeat {
  caf::actor conn;
};

struct presence_disconnect {
  caf::actor conn;
};

/// A connection watches this user; the reply is the current presence_info, and
/// changes follow as presence_event messages.
struct presence_watch {
  caf::actor conn;
};

struct presence_unwatch {
  caf::actor conn;
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

/// Presence actor: current presence_info (no watching).
using query_atom = caf::atom_constant<caf::atom("query")>;
/// Session -> connection actor: the peer answered a ping or pinged.
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
/// Presence actor timers.
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
/// Store: commit what is pending (the group commit trigger).
using flush_atom = caf::atom_constant<caf::atom("flush")>;
/// Room: continue a member's replay `(replay_atom, actor_id, generation)` once
/// its outbox has drained.
using replay_atom = caf::atom_constant<caf::atom("replay")>;
/// Room: check whether it has been idle long enough to passivate.
using idle_atom = caf::atom_constant<caf::atom("idle")>;
/// Store: flush everything to disk and answer; sent at shutdown.
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;

} // namespace chat::msg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::room_join)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::reply_to)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::room_leave)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::room_post)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::post_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::room_typing)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_append)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_load)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_receipt)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_last_seen)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_load_receipts)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::receipt_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_load_last_seen)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_read)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::message_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::resolve_room)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::find_room)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::resolve_user)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::room_read)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::room_signal)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::presence_heartbeat)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::presence_disconnect)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::presence_watch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::presence_unwatch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::presence_info)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::presence_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::storage::room_meta)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::storage::room_append_result)
