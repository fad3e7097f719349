#pragma once

// The inspector's state and what its two files share: inspector.cpp (the
// connections) and inspector_kinds.cpp (the node's actors by kind).

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "chat/actors/connection_registry.hpp"
#include "chat/actors/frame.hpp"

namespace chat::actors::inspection {

/// Another node's share of a list, or its answer, waits this long: one silent
/// node must not hold the page. With the lookup of its inspector's address it
/// stays below the gateway's own wait (cross_node_timeout, 5 s).
constexpr auto node_timeout = std::chrono::seconds(3);
constexpr auto lookup_timeout = std::chrono::seconds(1);
/// An actor answers at once unless its mailbox is long: then it is listed
/// without its part rather than holding the page.
constexpr auto actor_timeout = std::chrono::seconds(1);

struct inspector_state {
  std::string node_id;
  std::shared_ptr<connection_registry_slot> connections;
  caf::actor directory;  ///< this node's (told by spawn_node)
  caf::actor store;      ///< this node's
  caf::actor membership; ///< this node's, in a cluster (told by the cluster layer)
  std::map<std::string, caf::actor> directories;          ///< the view's nodes, by id
  std::unordered_map<std::string, caf::actor> inspectors; ///< learnt from summaries
  /// What to do with a describe's cards, by its key.
  std::unordered_map<uint64_t, std::function<void(std::vector<connection_card>&)>> pending;
  uint64_t next_key = 0;
  static inline const char* name = "inspector";
};

using inspector_self = caf::stateful_actor<inspector_state>*;

caf::error not_found(const std::string& what);

/// The connection actors of up to `limit` connections of `user` (all: empty)
/// after actor id `after` (none without a gateway).
std::vector<caf::actor> pick(inspector_self self, const std::string& user, caf::actor_id after,
                             size_t limit);

/// Calls `found` with the inspector of `node` (this one's, or asked of the
/// node's directory), or `failed`.
void with_inspector(inspector_self self, const std::string& node,
                    std::function<void(const caf::actor&)> found,
                    std::function<void(caf::error)> failed);

/// This node's actors by kind with their count and largest mailbox, and the
/// store's state (pending writes, RocksDB): the admin API's actors.
caf::result<frame> actor_kinds(inspector_self self);

} // namespace chat::actors::inspection
