#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace chat::cluster {

struct membership_settings {
  std::string node_id;
  std::string endpoint;
  caf::actor directory;
  std::chrono::milliseconds heartbeat{500};
  std::chrono::milliseconds failure_timeout{3000};
  std::string members_file; ///< see cluster_options::members_file
};

/// Spawns the node's membership actor (see membership.hpp for what it does).
caf::actor spawn_membership(caf::actor_system& sys, membership_settings settings);

} // namespace chat::cluster
