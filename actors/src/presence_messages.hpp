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

// Presence: what connections (of any node) ask of a user's presence shard on
// the user's home node, and what the shard tells them. Its interface:
// presence_shard_actor.

namespace chat::msg {

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
using presence_shard_actor = caf::typed_actor<
  caf::reacts_to<presence_heartbeat>, caf::reacts_to<presence_disconnect>,
  caf::replies_to<presence_watch>::with<presence_info>, caf::reacts_to<presence_unwatch>,
  caf::replies_to<presence_query>::with<presence_info>,
  caf::reacts_to<publish_atom, std::string>, caf::reacts_to<expire_atom>,
  caf::reacts_to<cluster_view>, caf::replies_to<inspect_atom, std::string>::with<actors::frame>,
  caf::replies_to<inspect_atom, mailbox_atom>::with<uint64_t>>;

// -- wire names and inspect (node_messages.hpp lists them) --------------------

CHAT_WIRE_TYPE(presence_heartbeat, x.conn, x.user)

CHAT_WIRE_TYPE(presence_disconnect, x.conn, x.user)

CHAT_WIRE_TYPE(presence_watch, x.conn, x.user)

CHAT_WIRE_TYPE(presence_unwatch, x.conn, x.user)

CHAT_WIRE_TYPE(presence_query, x.user)

CHAT_WIRE_TYPE(presence_info, x.user, x.online, x.last_seen)

CHAT_WIRE_TYPE(presence_event, x.info, x.frame)

// A handle that is an answer across nodes (a directory's resolve_user).
CHAT_WIRE_NAME(presence_shard_actor, "chat::msg::presence_shard_actor")

} // namespace chat::msg
