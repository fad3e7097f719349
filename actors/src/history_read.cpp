#include "history_read.hpp"

#include "chat/actors/events.hpp"

namespace chat::actors {

caf::result<frame> read_history_from(caf::event_based_actor* self,
                                     const msg::store_actor& store, const msg::read_history& x,
                                     uint64_t last) {
  auto rp = self->make_response_promise<frame>();
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
