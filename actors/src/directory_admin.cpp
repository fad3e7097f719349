#include <algorithm>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "directory_routing.hpp"
#include "directory_state.hpp"
#include "room_inspection.hpp"

namespace chat::actors::directory {

namespace {

caf::error no_log(const std::string& room) {
  return caf::make_error(errc::not_found, "no room '" + room + "' on this cluster");
}

bool has_log(const storage::room_meta& meta) {
  return meta.seq != 0 || meta.promised.n != 0;
}

// The view of a room homed here that is not active: from the store.
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
        if (!has_log(meta)) {
          rp.deliver(no_log(room));
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

} // namespace

// The admin API's view of a room, on its home: from its actor when active
// (no activation just to look), else from the store.
caf::result<frame> inspect(directory_self self, const directory_options& opts,
                           const msg::store_actor& store, msg::inspect_room& x) {
  switch (route_of(self, runtime::hash_ring::room_key(x.room), x)) {
    case route::elsewhere:
      return caf::delegated<frame>{};
    case route::leaving:
      return leaving(self);
    default:
      break;
  }
  if (auto i = self->state.rooms.find(x.room); i != self->state.rooms.end()) {
    self->delegate(i->second, msg::inspect_atom::value);
    return caf::delegated<frame>{};
  }
  return inspect_stored(self, store, opts.replication, x.room);
}

caf::result<frame> stop(directory_self self, const msg::store_actor& store, msg::stop_room& x) {
  switch (route_of(self, runtime::hash_ring::room_key(x.room), x)) {
    case route::elsewhere:
      return caf::delegated<frame>{};
    case route::leaving:
      return leaving(self);
    default:
      break;
  }
  auto rp = self->make_response_promise<frame>();
  if (self->state.rooms.count(x.room) != 0) {
    when_room_stopped(self, x.room, [rp]() mutable {
      rp.deliver(ok_event(""));
    });
    return rp;
  }
  self->request(store, store_timeout, msg::store_load{x.room})
    .then(
      [rp, room = x.room](storage::room_meta& meta) mutable {
        if (has_log(meta))
          rp.deliver(ok_event("")); // not running: nothing to stop
        else
          rp.deliver(no_log(room));
      },
      [rp](caf::error& err) mutable {
        rp.deliver(err);
      });
  return rp;
}

} // namespace chat::actors::directory
