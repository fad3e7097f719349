#include "connection_state.hpp"

#include "chat/actors/timeouts.hpp"

namespace chat::actors::connection {

namespace {

// Shards live as long as their node: a monitor left behind would stay in the
// shard after this actor stops, so every monitor is taken once and undone.
void monitor_shard(connection_self* self, const msg::presence_shard_actor& p) {
  auto& m = self->state.watch().monitored;
  if (std::find(m.begin(), m.end(), p.address()) != m.end())
    return;
  self->monitor(p);
  m.push_back(p.address());
}

void finish_watch(connection_self* self) {
  auto& w = self->state.watch();
  push_reply(self, w.reply, presence_state_event(w.ref, w.state));
  w.state.clear();
  for (auto& ev : w.held)
    if (w.actors.count(ev.info.user) > 0)
      self->state.out->push(ev.frame, frame_kind::ephemeral);
  w.held.clear();
}

// This user's presence shard went away or moved: register with the user's
// (new) home at the next heartbeat.
void lost_presence(connection_self* self) {
  self->state.presence = nullptr;
  self->delayed_send(self, std::chrono::milliseconds(300), msg::heartbeat_atom::value);
}

void lost_watched(connection_self* self, const std::string& user,
                  msg::presence_shard_actor& p) {
  p = nullptr;
  self->delayed_send(self, std::chrono::milliseconds(300), msg::rewatch_atom::value, user,
                     self->state.watch().epoch);
}

} // namespace

void unwatch_all(connection_self* self) {
  if (!self->state.watching)
    return;
  auto me = caf::actor_cast<caf::actor>(self);
  auto& w = self->state.watch();
  for (auto& [user, p] : w.actors)
    if (p)
      self->send(p, msg::presence_unwatch{me, user});
  for (auto& addr : w.monitored)
    self->demonitor(addr);
  w.monitored.clear();
}

// Replaces the watch list: unwatch the old users, watch the new ones, and
// answer presence_state once every watched user's shard has told its state.
void watch(connection_self* self, reply_out to, msg::cmd_presence cmd) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  unwatch_all(self);
  if (st.watch().pending > 0) // the superseded command gets no presence_state
    finish_silently(self, st.watch().reply, st.watch().ref);
  auto epoch = st.watch().epoch + 1;
  st.watch() = watch_state{};
  st.watch().epoch = epoch;
  st.watch().ref = std::move(cmd.ref);
  st.watch().reply = std::move(to);
  std::sort(cmd.users.begin(), cmd.users.end());
  cmd.users.erase(std::unique(cmd.users.begin(), cmd.users.end()), cmd.users.end());
  st.watch().pending = cmd.users.size();
  if (cmd.users.empty())
    return finish_watch(self);
  auto answered = [=](std::tuple<std::string, bool, int64_t> entry) {
    auto& w = self->state.watch();
    if (w.epoch != epoch)
      return;
    w.state.emplace_back(std::move(entry));
    if (--w.pending == 0)
      finish_watch(self);
  };
  for (auto& user : cmd.users) {
    self->request(st.directory, cross_node_timeout, msg::resolve_user{user})
      .then(
        [=](msg::presence_shard_actor& p) {
          if (self->state.watch().epoch != epoch)
            return;
          self->state.watch().actors[user] = p;
          monitor_shard(self, p);
          self->request(p, cross_node_timeout, msg::presence_watch{me, user})
            .then(
              [=](msg::presence_info& info) {
                answered({info.user, info.online, info.last_seen});
              },
              [=](caf::error&) {
                answered({user, false, 0});
              });
        },
        [=](caf::error&) {
          answered({user, false, 0});
        });
  }
}

void register_presence(connection_self* self) {
  self->request(self->state.directory, cross_node_timeout, msg::resolve_user{self->state.user})
    .then(
      [=](msg::presence_shard_actor& p) {
        auto& st = self->state;
        if (st.presence != p) { // two registrations may cross: monitor once
          if (st.presence)
            self->demonitor(st.presence.address());
          self->monitor(p);
          st.presence = p;
        }
        self->send(p, msg::presence_heartbeat{caf::actor_cast<caf::actor>(self), st.user});
      },
      [=](caf::error&) {
        // The user's home is moving: try again shortly.
        self->delayed_send(self, std::chrono::milliseconds(300), msg::heartbeat_atom::value);
      });
}

void on_presence_down(connection_self* self, const caf::down_msg& dm) {
  auto& st = self->state;
  if (st.presence && dm.source == st.presence.address())
    lost_presence(self);
  if (!st.watching)
    return;
  // A watched user's presence shard went away (its node left): watch the
  // users on their new homes, so that later changes keep arriving.
  auto& m = st.watching->monitored;
  m.erase(std::remove(m.begin(), m.end(), dm.source), m.end());
  for (auto& [user, p] : st.watching->actors)
    if (p && p.address() == dm.source)
      lost_watched(self, user, p);
}

void on_presence_event(connection_self* self, msg::presence_event& ev) {
  if (!self->state.watching)
    return;
  auto& w = *self->state.watching;
  if (w.pending > 0) {
    // Bounded: presence events are ephemeral, and presence_state will carry
    // each watched user's state anyway; keep at most a few per watched user.
    if (w.held.size() < 4 * max_watched_users)
      w.held.push_back(std::move(ev));
    return;
  }
  if (w.actors.count(ev.info.user) > 0)
    self->state.out->push(ev.frame, frame_kind::ephemeral);
}

void on_rewatch(connection_self* self, const std::string& user, uint64_t epoch) {
  auto me = caf::actor_cast<caf::actor>(self);
  self->request(self->state.directory, cross_node_timeout, msg::resolve_user{user})
    .then(
      [=](msg::presence_shard_actor& p) {
        auto& w = self->state.watch();
        auto i = w.actors.find(user);
        if (w.epoch != epoch || i == w.actors.end())
          return;
        i->second = p;
        monitor_shard(self, p);
        self->request(p, cross_node_timeout, msg::presence_watch{me, user})
          .then([](msg::presence_info&) {}, [](caf::error&) {});
      },
      [=](caf::error&) {
        self->delayed_send(self, std::chrono::milliseconds(300), msg::rewatch_atom::value, user,
                           epoch);
      });
}

void on_heartbeat(connection_self* self) {
  auto& st = self->state;
  if (!st.presence)
    return register_presence(self);
  self->send(st.presence, msg::presence_heartbeat{caf::actor_cast<caf::actor>(self), st.user});
}

void on_presence_moved(connection_self* self, const std::string& user) {
  auto& st = self->state;
  if (user == st.user && st.presence) {
    self->demonitor(st.presence.address());
    lost_presence(self);
  }
  if (!st.watching)
    return;
  auto i = st.watching->actors.find(user);
  if (i != st.watching->actors.end() && i->second)
    lost_watched(self, user, i->second);
}

} // namespace chat::actors::connection
