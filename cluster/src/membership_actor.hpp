#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "chat/cluster/fault_injector.hpp"

namespace chat::cluster {

struct membership_settings {
  std::string node_id;
  std::string endpoint;
  caf::actor directory;
  std::chrono::milliseconds heartbeat{500};
  std::chrono::milliseconds failure_timeout{3000};
  std::string members_file;         ///< see cluster_options::members_file
  bool joining = false;             ///< started with seeds: never bootstraps a cluster
  dial_fn dial;                     ///< see cluster_options::dial
  std::vector<std::string> secrets; ///< see cluster_options::secrets
  bool tls = false;                 ///< links are TLS (cluster_options::tls)
  uint32_t replication = 2;         ///< the node's R (node_handles::replication)
};

/// `ep`, or what `dial` routes it through.
inline runtime::endpoint dial_target(const dial_fn& dial, const runtime::endpoint& ep) {
  return dial ? dial(ep) : ep;
}

/// Spawns the node's membership actor (see membership.hpp for what it does).
caf::actor spawn_membership(caf::actor_system& sys, membership_settings settings);

} // namespace chat::cluster
