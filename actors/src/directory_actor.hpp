#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "chat/actors/metrics.hpp"
#include "presence_shard.hpp"

namespace chat::actors {

struct directory_options {
  std::string node_id;
  std::chrono::milliseconds room_idle{60000};
  uint32_t replication = 2; ///< nodes per room log, the home included
  presence_options presence;
  std::shared_ptr<node_metrics> metrics;
  caf::actor inspector; ///< told every view; named in this node's summary
};

/// Spawns the node's directory: resolves a room name or a user to its actor,
/// activating it on first use, and forgets actors that passivate or die. (The
/// cluster issue turns this into the consistent-hash ring over all nodes.)
msg::directory_actor spawn_directory(caf::actor_system& sys, directory_options opts,
                                     msg::store_actor store);

} // namespace chat::actors
