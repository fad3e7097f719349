#pragma once

// A node's inspector: answers the admin API's questions about the node's
// client connections (docs/protocol.md, "Admin API"), and asks the other
// nodes' inspectors for theirs, so that any node answers for the cluster.
// Connections live in the gateway (connection_registry) and in their
// connection actors; the inspector joins the two. An untyped actor in a
// translation unit of its own: nothing of it touches a hot path.

#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "chat/actors/connection_registry.hpp"

namespace chat::msg {

/// Inspector, local: `(conns_atom, user, node, cursor, limit)` -> frame: a page
/// of the cluster's connections (`user`, `node` empty: all).
using conns_atom = caf::atom_constant<caf::atom("conns")>;
/// Inspector, across nodes: `(node_conns_atom, user, after, limit)` ->
/// (ids, rows): up to `limit` of this node's connections after actor id
/// `after`, by id, each row a JSON object.
using node_conns_atom = caf::atom_constant<caf::atom("node_conns")>;
/// Inspector: `(conn_atom, id)` -> frame: one connection with its actor's and
/// session's state; asked of the node the id names.
using conn_atom = caf::atom_constant<caf::atom("conn")>;
/// Inspector: `(kick_atom, id)` -> frame `ok`: closes the connection.
using kick_atom = caf::atom_constant<caf::atom("kick")>;
/// Registry -> inspector: `(cards_atom, key, cards)`: what a describe found.
using cards_atom = caf::atom_constant<caf::atom("cards")>;

} // namespace chat::msg

namespace chat::actors {

/// Spawns the node's inspector. It learns the other nodes from the cluster
/// views its directory forwards, and their inspectors from their summaries.
caf::actor spawn_inspector(caf::actor_system& sys, std::string node_id,
                           std::shared_ptr<connection_registry_slot> connections);

/// Splits a connection id "<node>:<actor id>"; false when it is not one.
bool parse_connection_id(const std::string& id, std::string& node, caf::actor_id& actor);

} // namespace chat::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<chat::actors::connection_card>)
