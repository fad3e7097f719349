#pragma once

#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include "chat/runtime/hash_ring.hpp"
#include "store_messages.hpp"

namespace chat::actors {

/// Spawns the worker that hands every room stored on this node over when it
/// leaves (ADR 8): it tells every other node that this one is leaving (so none
/// counts it as a home or replica), then asks each room's new home in `ring`
/// (the cluster without this node) to take the room over, which writes its log
/// onto a replica set without this node. This node's copy stays on its disk.
/// Answers `(handover_atom)` with true once every room moved and every node
/// was told, else with an error saying how many rooms did not move and how
/// many nodes were not told (then no goodbye: ADR 8's quorum must keep
/// counting this node's copies).
caf::actor spawn_handover(caf::local_actor* parent, msg::store_actor store, std::string node_id,
                          runtime::hash_ring ring,
                          std::unordered_map<std::string, msg::directory_actor> peers);

/// Spawns the worker that puts every room stored on this node back onto R
/// copies among the nodes up now (after a member went down, the rooms nobody
/// asked for since still have a copy on it only): it asks each room's home in
/// `ring` (this node's current ring; `directories` names every node's
/// directory, this one's included) for one message, which activates the room
/// there, and an activation takes the log over onto the room's current
/// replica set (ADR 8), exactly as a client's read would. One room at a time.
/// Answers `(repair_atom)` with (rooms stored here, rooms now on their
/// replica sets).
caf::actor spawn_repair(caf::local_actor* parent, msg::store_actor store, std::string node_id,
                        runtime::hash_ring ring,
                        std::unordered_map<std::string, msg::directory_actor> directories);

} // namespace chat::actors
