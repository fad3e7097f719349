#pragma once

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include "chat/actors/events.hpp"
#include "chat/actors/frame.hpp"
#include "store_messages.hpp"

namespace chat::actors {

/// Answers a history read with the `history` frame built from `store` (the
/// room's log on this node), or the store's error. Records after `last` are not
/// served: a room's home passes its last acked seq (records it stored but its
/// replicas do not hold yet may still be discarded, ADR 8).
/// (`Self`: the room's actor, or the directory for a room that is not active.)
template <class Self>
caf::result<frame> read_history_from(Self self, const msg::store_actor& store,
                                     const msg::read_history& x, uint64_t last = UINT64_MAX) {
  auto rp = self->template make_response_promise<frame>();
  // "Before" reads start at the newest servable record (0 means the newest).
  auto window = x.window;
  if (!window.after && last != UINT64_MAX && (window.before == 0 || window.before > last + 1))
    window.before = last + 1;
  self->request(store, caf::infinite, msg::store_read{x.room, window})
    .then(
      [rp, ref = x.ref, room = x.room, last](msg::message_list& xs) mutable {
        while (!xs.empty() && xs.back().seq > last) // after-reads are oldest first
          xs.pop_back();
        rp.deliver(history_event(ref, room, xs));
      },
      [rp](caf::error& err) mutable {
        rp.deliver(err);
      });
  return rp;
}

} // namespace chat::actors
