#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "chat/actors/frame.hpp"
#include "store_messages.hpp"

namespace chat::actors {

/// Answers a history read with the `history` frame built from `store` (the
/// room's log on this node), or the store's error. Records after `last` are not
/// served: a room's home passes its last acked seq (records it stored but its
/// replicas do not hold yet may still be discarded, ADR 8).
caf::result<frame> read_history_from(caf::event_based_actor* self,
                                     const msg::store_actor& store, const msg::read_history& x,
                                     uint64_t last = UINT64_MAX);

} // namespace chat::actors
