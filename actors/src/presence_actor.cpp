#include "presence_actor.hpp"

#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/events.hpp"
#include "chat/actors/messages.hpp"
#include "chat/runtime/clock.hpp"

namespace chat::actors {

namespace {

struct presence_state {
  std::string user;
  caf::actor store;
  caf::actor directory;
  presence_options opts;
  std::optional<presence_tracker> tracker;
  // Keyed by address: connections on different nodes may share an actor id.
  std::unordered_map<caf::actor_addr, caf::actor> watchers;
  /// Monitored connections and their device numbers in the tracker.
  std::unordered_map<caf::actor_addr, std::pair<caf::actor, uint64_t>> devices;
  uint64_t next_device = 0;
  uint64_t expire_epoch = 0;
  uint64_t idle_epoch = 0;
  static inline const char* name = "presence";
};

using presence_self = caf::stateful_actor<presence_state>;

msg::presence_info info_of(presence_self* self) {
  auto& st = self->state;
  return {st.user, st.tracker->online(), st.tracker->last_seen()};
}

void publish(presence_self* self) {
  auto& st = self->state;
  auto online = st.tracker->published_online();
  auto seen = st.tracker->last_seen();
  msg::presence_event ev{{st.user, online, seen}, presence_event(st.user, online, seen)};
  for (auto& [id, w] : st.watchers)
    self->send(w, ev);
}

void arm_idle_timer(presence_self* self) {
  auto& st = self->state;
  ++st.idle_epoch;
  if (st.watchers.empty() && !st.tracker->online())
    self->delayed_send(self, st.opts.idle, msg::idle_atom::value, st.idle_epoch);
}

// Re-arms the TTL timer for the earliest device expiry.
void arm_expiry(presence_self* self, int64_t now) {
  auto& st = self->state;
  ++st.expire_epoch;
  if (auto at = st.tracker->next_expiry())
    self->delayed_send(self, std::chrono::milliseconds(std::max<int64_t>(*at - now, 1)),
                       msg::expire_atom::value, st.expire_epoch);
}

// Called after every change of the device set.
void after_change(presence_self* self, bool was_online, int64_t now) {
  auto& st = self->state;
  if (was_online && !st.tracker->online()) // the user just went offline: remember when
    self->send(st.store, msg::store_last_seen{{st.user, st.tracker->last_seen()}});
  auto d = st.tracker->changed(now);
  if (d.what == presence_tracker::decision::publish_now)
    publish(self);
  else if (d.what == presence_tracker::decision::publish_at)
    self->delayed_send(self, std::chrono::milliseconds(std::max<int64_t>(d.at_ms - now, 1)),
                       msg::publish_atom::value);
  arm_idle_timer(self);
}

void drop_device(presence_self* self, const caf::actor_addr& conn) {
  auto& st = self->state;
  auto i = st.devices.find(conn);
  if (i == st.devices.end())
    return;
  auto device = i->second.second;
  st.devices.erase(i);
  auto now = runtime::wall_ms();
  auto was_online = st.tracker->online();
  st.tracker->disconnect(device, now);
  after_change(self, was_online, now);
  arm_expiry(self, now);
}

caf::behavior presence_actor(presence_self* self, std::string user, caf::actor store,
                             caf::actor directory, presence_options opts) {
  auto& st = self->state;
  st.user = std::move(user);
  st.store = std::move(store);
  st.directory = std::move(directory);
  st.opts = opts;
  self->request(st.store, caf::infinite, msg::store_load_last_seen{st.user})
    .await([=](int64_t seen) { self->state.tracker.emplace(self->state.opts.tracker, seen); },
           [=](caf::error&) {
             // Presence works without the stored time; it is only history.
             self->state.tracker.emplace(self->state.opts.tracker, 0);
           });
  self->set_down_handler([=](caf::down_msg& dm) {
    if (self->state.watchers.erase(dm.source) > 0)
      arm_idle_timer(self);
    drop_device(self, dm.source);
  });
  return {
    [=](msg::presence_heartbeat& x) {
      auto& st = self->state;
      auto [i, added] = st.devices.try_emplace(x.conn.address(), x.conn, st.next_device);
      if (added) {
        ++st.next_device;
        self->monitor(x.conn);
      }
      auto now = runtime::wall_ms();
      auto was_online = st.tracker->online();
      st.tracker->heartbeat(i->second.second, now);
      if (!was_online)
        after_change(self, was_online, now);
      arm_expiry(self, now);
    },
    [=](msg::presence_disconnect& x) {
      self->demonitor(x.conn.address());
      drop_device(self, x.conn.address());
    },
    [=](msg::presence_watch& x) -> msg::presence_info {
      auto& st = self->state;
      if (st.watchers.emplace(x.conn.address(), x.conn).second)
        self->monitor(x.conn);
      ++st.idle_epoch;
      // The watcher starts from what the others were last told, so that the
      // next published change is a change for it too.
      return {st.user, st.tracker->published_online(), st.tracker->last_seen()};
    },
    [=](msg::presence_unwatch& x) {
      if (self->state.watchers.erase(x.conn.address()) > 0) {
        self->demonitor(x.conn.address());
        arm_idle_timer(self);
      }
    },
    [=](msg::query_atom) { return info_of(self); },
    [=](msg::publish_atom) {
      if (self->state.tracker->due(runtime::wall_ms()))
        publish(self);
    },
    [=](msg::expire_atom, uint64_t epoch) {
      auto& st = self->state;
      if (epoch != st.expire_epoch)
        return;
      auto now = runtime::wall_ms();
      auto was_online = st.tracker->online();
      st.tracker->expire(now);
      if (was_online && !st.tracker->online())
        spdlog::debug("presence: '{}' timed out (no heartbeat for {} ms)", st.user,
                      st.opts.tracker.ttl_ms);
      after_change(self, was_online, now);
      arm_expiry(self, now);
    },
    [=](msg::idle_atom, uint64_t epoch) {
      auto& st = self->state;
      if (epoch != st.idle_epoch || !st.watchers.empty() || st.tracker->online())
        return;
      self->request(st.directory, caf::infinite, msg::passivate_atom::value, true, st.user)
        .await([=](bool ok) {
          if (ok)
            self->quit();
        });
    },
  };
}

} // namespace

caf::actor spawn_presence(caf::local_actor* parent, std::string user, caf::actor store,
                          caf::actor directory, presence_options opts) {
  return parent->spawn(presence_actor, std::move(user), std::move(store), std::move(directory),
                       opts);
}

} // namespace chat::actors
