#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include "chat/actors/presence_tracker.hpp"

namespace chat::actors {

struct presence_options {
  presence_tracker::config tracker;
  /// An offline, unwatched presence actor stops after this long.
  std::chrono::milliseconds idle{60000};
};

/// Spawns the presence actor of one user: counts the user's live connections,
/// expires silent ones after the TTL, stores last-seen, and tells watching
/// connections about changes (coalesced, see presence_tracker).
caf::actor spawn_presence(caf::local_actor* parent, std::string user, caf::actor store,
                          caf::actor directory, presence_options opts);

} // namespace chat::actors
