#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "chat/actors/frame.hpp"
#include "chat/actors/messages.hpp"

namespace chat::actors {

/// Answers a history read with the `history` frame built from `store` (the
/// room's log on this node), or the store's error.
caf::result<frame> read_history_from(caf::event_based_actor* self, const caf::actor& store,
                                     const msg::read_history& x);

} // namespace chat::actors
