#pragma once

#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "chat/storage/store.hpp"

namespace chat::actors {

/// Spawns the node's store actor on its own thread (detached): RocksDB calls
/// block, and blocking never happens on the scheduler's threads.
caf::actor spawn_store(caf::actor_system& sys, std::shared_ptr<storage::store> db);

} // namespace chat::actors
