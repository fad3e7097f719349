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
/// Answers `(handover_atom)` with true once every room was asked.
caf::actor spawn_handover(caf::local_actor* parent, msg::store_actor store, std::string node_id,
                          runtime::hash_ring ring,
                          std::unordered_map<std::string, msg::directory_actor> peers);

} // namespace chat::actors
