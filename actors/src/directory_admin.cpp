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

/// How long a list waits for another node's list, and (shorter, so that one
/// slow room does not cost a whole node's rooms) for a room's summary.
constexpr auto list_timeout = std::chrono::seconds(3);
constexpr auto summary_timeout = std::chrono::seconds(1);

template <class T, class Key>
void sort_unique(std::vector<T>& xs, Key key) {
  std::sort(xs.begin(), xs.end(), [&](auto& a, auto& b) {
    return key(a) < key(b);
  });
  xs.erase(std::unique(xs.begin(), xs.end(),
                       [&](auto& a, auto& b) {
                         return key(a) == key(b);
                       }),
           xs.end());
}

// Answers of several asks, merged into one list once the last is in.
struct list_gather {
  msg::room_list out;
  size_t pending = 0;
  uint32_t limit = 0;
  caf::typed_response_promise<msg::room_list> rp;

  void one_done() {
    if (--pending != 0)
      return;
    // Pages are decided by names: the first limit + 1 (one more: there is a
    // next page). A room moving between homes may be active on two nodes for a
    // moment: once.
    sort_unique(out.names, [](const std::string& x) -> const std::string& {
      return x;
    });
    if (out.names.size() > limit + size_t{1})
      out.names.resize(limit + size_t{1});
    sort_unique(out.rooms, [](const msg::room_summary& x) -> const std::string& {
      return x.room;
    });
    auto last = out.names.empty() ? std::string{} : out.names.back();
    while (!out.rooms.empty() && out.rooms.back().room > last)
      out.rooms.pop_back();
    rp.deliver(std::move(out));
  }
};

// This node's active rooms for `x`: the first limit + 1 by name, summarized by
// their actors (one that stops meanwhile is left out).
caf::result<msg::room_list> list_here(directory_self self, const msg::list_rooms& x) {
  std::vector<std::pair<std::string, msg::room_actor>> picked;
  for (auto& [name, a] : self->state.rooms)
    if (name.compare(0, x.prefix.size(), x.prefix) == 0 && name > x.after)
      picked.emplace_back(name, a);
  std::sort(picked.begin(), picked.end(), [](auto& a, auto& b) {
    return a.first < b.first;
  });
  if (picked.size() > x.limit + size_t{1})
    picked.resize(x.limit + size_t{1});
  auto g = std::make_shared<list_gather>();
  g->rp = self->make_response_promise<msg::room_list>();
  g->limit = x.limit;
  g->pending = picked.size() + 1; // + this call's own share, done below
  for (auto& [name, a] : picked)
    g->out.names.push_back(name);
  for (auto& [name, a] : picked)
    self->request(a, summary_timeout, msg::inspect_atom::value, msg::summary_atom::value)
      .then(
        [g](msg::room_summary& s) {
          g->out.rooms.push_back(std::move(s));
          g->one_done();
        },
        [g](caf::error&) {
          g->one_done();
        });
  g->one_done();
  return g->rp;
}

} // namespace

// The admin API's view of a room, on its home: from its actor when active
// (no activation just to look), else from the store.
caf::result<frame> inspect(directory_self self, const directory_options& opts,
                           const msg::store_actor& store, msg::inspect_room& x) {
  if (auto answer = not_here<frame>(self, runtime::hash_ring::room_key(x.room), x))
    return std::move(*answer);
  if (auto i = self->state.rooms.find(x.room); i != self->state.rooms.end()) {
    self->delegate(i->second, msg::inspect_atom::value);
    return caf::delegated<frame>{};
  }
  return inspect_stored(self, store, opts.replication, x.room);
}

caf::result<frame> stop(directory_self self, const msg::store_actor& store, msg::stop_room& x) {
  if (auto answer = not_here<frame>(self, runtime::hash_ring::room_key(x.room), x))
    return std::move(*answer);
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

caf::result<msg::room_list> list(directory_self self, msg::list_rooms& x) {
  if (x.hops > 0 || self->state.peers.empty())
    return list_here(self, x);
  // Asked of this node for the whole cluster: every node's own (this one's too,
  // through the same request), merged. A node that does not answer in time is
  // left out of this page.
  auto g = std::make_shared<list_gather>();
  g->rp = self->make_response_promise<msg::room_list>();
  g->limit = x.limit;
  g->pending = self->state.peers.size() + 1;
  auto one = x;
  one.hops = 1;
  auto ask = [&](const msg::directory_actor& dir) {
    self->request(dir, list_timeout, one)
      .then(
        [g](msg::room_list& xs) {
          auto& names = g->out.names;
          names.insert(names.end(), xs.names.begin(), xs.names.end());
          auto& out = g->out.rooms;
          out.insert(out.end(), std::make_move_iterator(xs.rooms.begin()),
                     std::make_move_iterator(xs.rooms.end()));
          g->one_done();
        },
        [g](caf::error&) {
          g->one_done();
        });
  };
  ask(caf::actor_cast<msg::directory_actor>(self));
  for (auto& [id, dir] : self->state.peers)
    ask(dir);
  return g->rp;
}

} // namespace chat::actors::directory
