#include <algorithm>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "directory_state.hpp"
#include "room_inspection.hpp"

namespace chat::actors::directory {

caf::result<frame> inspect_stored(directory_self self, const msg::store_actor& store,
                                  uint32_t replication, const std::string& room) {
  auto rp = self->make_response_promise<frame>();
  auto v = std::make_shared<room_view>();
  v->room = room;
  v->home = self->state.node_id;
  auto& ring = self->state.ring;
  if (!ring.empty())
    for (auto& id : ring.owners(runtime::hash_ring::room_key(room), replication))
      if (id != v->home)
        v->replicas.push_back(id);
  auto failed = [rp](caf::error& err) mutable {
    rp.deliver(err);
  };
  self->request(store, store_timeout, msg::store_load{room})
    .then(
      [=](storage::room_meta& meta) mutable {
        if (meta.seq == 0 && meta.promised.n == 0) {
          rp.deliver(
            caf::make_error(errc::not_found, "no room '" + room + "' on this cluster"));
          return;
        }
        v->meta = std::move(meta);
        self
          ->request(store, store_timeout,
                    msg::store_read{room, {0, std::nullopt, room_view_recent}})
          .then(
            [=](msg::message_list& xs) mutable {
              // Newest first from the store: the view lists them oldest first.
              for (auto i = xs.rbegin(); i != xs.rend(); ++i)
                v->recent.push_back(message_event(room, *i));
              rp.deliver(room_view_frame(*v));
            },
            failed);
      },
      failed);
  return rp;
}

} // namespace chat::actors::directory
