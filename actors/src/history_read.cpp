#include "history_read.hpp"

#include "chat/actors/events.hpp"

namespace chat::actors {

caf::result<frame> read_history_from(caf::event_based_actor* self, const caf::actor& store,
                                     const msg::read_history& x) {
  auto rp = self->make_response_promise<frame>();
  self->request(store, caf::infinite, msg::store_read{x.room, x.before, x.after, x.has_after, x.limit})
    .then(
      [rp, ref = x.ref, room = x.room](msg::message_list& xs) mutable {
        rp.deliver(history_event(ref, room, xs));
      },
      [rp](caf::error& err) mutable { rp.deliver(err); });
  return rp;
}

} // namespace chat::actors
