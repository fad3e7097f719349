#pragma once

#include <string>
#include <unordered_map>

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include "chat/runtime/hash_ring.hpp"

namespace chat::actors {

/// Spawns the worker that hands every room stored on this node to its home in
/// `ring` (the cluster without this node): each room's log goes in parts to the
/// new home's directory (which imports it into its store), then it is dropped
/// here. Answers `(handover_atom)` with true once every room has moved.
caf::actor spawn_handover(caf::local_actor* parent, caf::actor store, runtime::hash_ring ring,
                          std::unordered_map<std::string, caf::actor> peers);

} // namespace chat::actors
