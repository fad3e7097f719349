#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace chat::actors {

/// Spawns the node's directory: resolves a room name to its actor, activating
/// the room on first use, and forgets rooms that passivate or die. (The cluster
/// issue turns this into the consistent-hash ring over all nodes.)
caf::actor spawn_directory(caf::actor_system& sys, std::string node_id, caf::actor store,
                           std::chrono::milliseconds room_idle);

} // namespace chat::actors
