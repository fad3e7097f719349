#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include "chat/actors/metrics.hpp"
#include "chat/actors/presence_tracker.hpp"
#include "store_messages.hpp"

namespace chat::actors {

struct presence_options {
  presence_tracker::config tracker;
  /// An offline, unwatched user is forgotten after this long (its last-seen
  /// time is stored, so nothing is lost).
  std::chrono::milliseconds idle{60000};
  /// Presence shards per node.
  size_t shards = 16;
};

/// Spawns a presence shard: the presence of every user homed on this node
/// whose name hashes to this shard. Per user it counts the live connections,
/// expires silent ones after the TTL, stores last-seen, and tells watching
/// connections about changes (coalesced, see presence_tracker).
///
/// One actor per shard of users rather than per user: an actor costs ~1.4 KiB
/// and a user's presence ~0.2 KiB, and an idle connection must stay small
/// (docs/benchmarks.md). A user's presence is still handled by exactly one
/// actor, in the order its messages arrive.
msg::presence_shard_actor spawn_presence_shard(caf::local_actor* parent, std::string node_id,
                                               msg::store_actor store, presence_options opts,
                                               std::shared_ptr<node_metrics> metrics);

/// The shard (of `shards`) that serves `user`.
size_t presence_shard_of(const std::string& user, size_t shards);

} // namespace chat::actors
