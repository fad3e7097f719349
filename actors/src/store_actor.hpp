#pragma once

#include <chrono>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "chat/actors/metrics.hpp"
#include "chat/storage/store.hpp"
#include "store_messages.hpp"

namespace chat::actors {

/// Spawns the node's store actor on its own thread (detached): RocksDB calls
/// block, and blocking never happens on the scheduler's threads.
/// `metrics` gets whether its writes are failing (a full disk). Every
/// `trim_interval` it applies the store's retention policy (0: never).
msg::store_actor
spawn_store(caf::actor_system& sys, std::shared_ptr<storage::store> db,
            std::shared_ptr<node_metrics> metrics,
            std::chrono::milliseconds trim_interval = std::chrono::milliseconds{0});

} // namespace chat::actors
