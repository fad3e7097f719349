#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>

#include "chat/actors/commands.hpp"
#include "chat/actors/outbox.hpp"

// What other modules send to this module's actors: the gateway to a connection
// actor (besides the commands of commands.hpp), the cluster's membership to the
// node's directory. The messages between this module's own actors, within a
// node and across nodes, are in actors/src/node_messages.hpp; the store's in
// actors/src/store_messages.hpp.

namespace chat::msg {

/// Sent ahead of a command in the same message (`reply_to, cmd_*`): the
/// command's one reply goes to `out` instead of the connection's stream. Used by
/// POST /rpc, where the answer belongs to the HTTP request, not the SSE/poll stream.
struct reply_to {
  std::shared_ptr<actors::outbox> out;
};

/// Local directory: `(joining_atom, bool)`. While this node joins a cluster
/// (true), requests it would answer as a room's or user's home wait: its view
/// is still partial, and a room activated now could not find its log on the
/// nodes it does not know yet. false (sent after the complete view) answers them.
using joining_atom = caf::atom_constant<caf::atom("joining")>;

/// Directory: this node leaves the cluster; hand every room it stores to its
/// next home, then answer true. From then on it refuses to host rooms and users.
using handover_atom = caf::atom_constant<caf::atom("handover")>;
/// Rooms stored on a node back onto R copies among the nodes up (after a loss).
using repair_atom = caf::atom_constant<caf::atom("repair")>;
/// Removing a member gone for good: the directory's `(remove_atom, id)` (the
/// admin API's; docs/protocol.md), and the membership actor's (the log's
/// leader removes it).
using remove_atom = caf::atom_constant<caf::atom("remove")>;
/// Directory: `(gone_atom, id)` -> bool: `id` is a member down in this node's
/// view, fenced there for its removal from now on; `(gone_atom, id, false)`
/// lifts the fence (the removal ended).
using gone_atom = caf::atom_constant<caf::atom("gone")>;

/// Directory: `(node_leaving_atom, node)` -> bool. That node is leaving: it no
/// longer homes or keeps rooms here, before its goodbye (ADR 8: each room it
/// stores is then taken over by its next home, onto a replica set without it).
using node_leaving_atom = caf::atom_constant<caf::atom("nleaving")>;

/// Membership -> directory: the nodes that are up (this one included) and
/// their directories (parallel lists). The ring is rebuilt from it.
struct cluster_view {
  std::vector<std::string> nodes;
  std::vector<caf::actor> directories;
  /// Where each of `nodes` listens for the cluster (same order; may be empty).
  std::vector<std::string> endpoints;
  /// Members that are down, and where they listened (the admin API lists them).
  std::vector<std::string> down;
  std::vector<std::string> down_endpoints;
  /// Members this node knows, down ones included (not those that left): a room
  /// needs min(R, members) of its nodes up to write (ADR 8). 0: nodes.size().
  uint32_t members = 0;
  /// The membership log's index of the member set this view counts (0: no
  /// log). It leads every ballot a take-over here proposes (ADR 10).
  uint64_t epoch = 0;
  /// The membership log's commit index here: a ballot of a newer member set
  /// than `epoch` whose index is committed without a change there came from a
  /// change that never took effect (room_replication.cpp).
  uint64_t committed = 0;
  /// Rooms may have as few as this many copies (written while the cluster had
  /// fewer than R members, and not every member has repaired since): a
  /// take-over counts with it. 0: every room has min(R, members) (ADR 8).
  uint32_t copies = 0;
  /// This node's membership actor (it takes `(remove_atom, id)`).
  caf::actor membership;
};

/// Admin: an actor's state for the admin API (docs/protocol.md, "Admin API"):
/// a room's `(inspect_atom)`, a presence shard's `(inspect_atom, user)`, a
/// connection actor's `(inspect_atom)`.
using inspect_atom = caf::atom_constant<caf::atom("inspect")>;
/// Admin: the node's actors: the directory's `(actors_atom)` (the actors it
/// keeps), the inspector's `(actors_atom, node)` (by kind), and what the node
/// tells its inspector: `(actors_atom, directory, store)`, and from the
/// cluster layer `(actors_atom, "membership", actor)`.
using actors_atom = caf::atom_constant<caf::atom("actors")>;
/// Admin: `(inspect_atom, mailbox_atom)` -> uint64_t: messages waiting in the
/// actor's mailbox (a relay's, a presence shard's; a room says it in its summary).
using mailbox_atom = caf::atom_constant<caf::atom("mailbox")>;

/// Session -> connection actor: the peer answered a ping or pinged.
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;

} // namespace chat::msg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::reply_to)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::cluster_view)
