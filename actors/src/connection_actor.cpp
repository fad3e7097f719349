#include <algorithm>
#include <atomic>
#include <tuple>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/actors/node.hpp"
#include "error_frame.hpp"

namespace chat::actors {

namespace {

// The presence watch list of a connection. A new `presence` command starts a
// new epoch; replies of older epochs are ignored.
struct watch_state {
  uint64_t epoch = 0;
  std::string ref;
  std::shared_ptr<outbox> reply; ///< where presence_state goes
  std::unordered_map<std::string, caf::actor> actors; ///< watched user -> presence shard
  std::vector<caf::actor_addr> monitored; ///< the shards of the watched users, once each
  std::vector<std::tuple<std::string, bool, int64_t>> state; ///< gathered replies
  size_t pending = 0;                   ///< replies still expected this epoch
  std::vector<msg::presence_event> held; ///< changes that overtook presence_state
};

struct connection_state {
  std::string user;
  std::shared_ptr<outbox> out;
  node_handles node;
  std::unordered_map<std::string, caf::actor> joined; ///< room -> this node's relay
  caf::actor presence; ///< the presence shard of this user (monitored)
  watch_state watch;
  static inline const char* name = "connection";
};

using connection_self = caf::stateful_actor<connection_state>;

/// Where a command's one reply goes: the connection's own outbox, or (for a
/// command that came through POST /rpc) the HTTP request's.
using reply_out = std::shared_ptr<outbox>;

constexpr int max_join_attempts = 3;
/// The gateway caps a watch list at 1,000 users (PROTOCOL.md).
constexpr size_t max_watched_users = 1000;

// A client command is finished: the session may read more (see outbox's
// command accounting). Every command ends in exactly one call.
void done(connection_self* self) {
  self->state.out->command_done();
}

// The one reply that finishes a command.
void push_reply(connection_self* self, const reply_out& to, const frame& f) {
  to->push(f, frame_kind::reply);
  done(self);
}

// A command without a reply on a WebSocket (typing, a delivered signal) is
// finished; over /rpc, where every request needs an answer, it gets `ok`.
void finish_silently(connection_self* self, const reply_out& to, const std::string& ref) {
  if (to != self->state.out)
    to->push(ok_event(ref), frame_kind::reply);
  done(self);
}

void join(connection_self* self, reply_out to, msg::cmd_join cmd, int attempt) {
  auto& st = self->state;
  self->request(st.node.directory, caf::infinite, msg::resolve_relay{cmd.room})
    .await(
      [=](caf::actor& relay) {
        auto& st = self->state;
        msg::relay_join req{caf::actor_cast<caf::actor>(self),
                            st.user,
                            st.out,
                            cmd.ref,
                            cmd.has_since,
                            cmd.since,
                            to != st.out ? to : nullptr};
        self->request(relay, caf::infinite, std::move(req))
          .await(
            [=](bool) {
              self->state.joined[cmd.room] = relay;
              done(self); // the relay pushed `joined` itself
            },
            [=](caf::error& err) {
              // The relay passivated while the join was on its way: ask again.
              if (attempt < max_join_attempts)
                join(self, to, cmd, attempt + 1);
              else
                push_reply(self, to, error_frame(cmd.ref, err, self->system()));
            });
      },
      [=](caf::error& err) {
        push_reply(self, to, error_frame(cmd.ref, err, self->system()));
      });
}

// Shards live as long as their node: a monitor left behind would stay in the
// shard after this actor stops, so every monitor is taken once and undone.
void monitor_shard(connection_self* self, const caf::actor& p) {
  auto& m = self->state.watch.monitored;
  if (std::find(m.begin(), m.end(), p.address()) != m.end())
    return;
  self->monitor(p);
  m.push_back(p.address());
}

void unwatch_all(connection_self* self) {
  auto me = caf::actor_cast<caf::actor>(self);
  auto& w = self->state.watch;
  for (auto& [user, p] : w.actors)
    if (p)
      self->send(p, msg::presence_unwatch{me, user});
  for (auto& addr : w.monitored)
    self->demonitor(addr);
  w.monitored.clear();
}

void leave_all(connection_self* self) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  for (auto& [name, relay] : st.joined)
    self->send(relay, msg::relay_leave{me});
  st.joined.clear();
  unwatch_all(self);
  if (st.presence) {
    self->send(st.presence, msg::presence_disconnect{me, st.user});
    self->demonitor(st.presence);
  }
}

void finish_watch(connection_self* self) {
  auto& w = self->state.watch;
  push_reply(self, w.reply, presence_state_event(w.ref, w.state));
  w.state.clear();
  for (auto& ev : w.held)
    if (w.actors.count(ev.info.user) > 0)
      self->state.out->push(ev.frame, frame_kind::ephemeral);
  w.held.clear();
}

// Replaces the watch list: unwatch the old users, watch the new ones, and
// answer presence_state once every presence actor has told its state.
void watch(connection_self* self, reply_out to, msg::cmd_presence cmd) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  unwatch_all(self);
  if (st.watch.pending > 0) // the superseded command gets no presence_state
    finish_silently(self, st.watch.reply, st.watch.ref);
  auto epoch = st.watch.epoch + 1;
  st.watch = watch_state{};
  st.watch.epoch = epoch;
  st.watch.ref = std::move(cmd.ref);
  st.watch.reply = std::move(to);
  std::sort(cmd.users.begin(), cmd.users.end());
  cmd.users.erase(std::unique(cmd.users.begin(), cmd.users.end()), cmd.users.end());
  st.watch.pending = cmd.users.size();
  if (cmd.users.empty())
    return finish_watch(self);
  auto answered = [=](std::tuple<std::string, bool, int64_t> entry) {
    auto& w = self->state.watch;
    if (w.epoch != epoch)
      return;
    w.state.emplace_back(std::move(entry));
    if (--w.pending == 0)
      finish_watch(self);
  };
  for (auto& user : cmd.users) {
    self->request(st.node.directory, caf::infinite, msg::resolve_user{user})
      .then(
        [=](caf::actor& p) {
          if (self->state.watch.epoch != epoch)
            return;
          self->state.watch.actors[user] = p;
          monitor_shard(self, p);
          self->request(p, caf::infinite, msg::presence_watch{me, user})
            .then(
              [=](msg::presence_info& info) {
                answered({info.user, info.online, info.last_seen});
              },
              [=](caf::error&) { answered({user, false, 0}); });
        },
        [=](caf::error&) { answered({user, false, 0}); });
  }
}

void not_joined(connection_self* self, const reply_out& to, const std::string& ref,
                const std::string& room) {
  push_reply(self, to, error_event(ref, "not_joined", "not joined to room '" + room + "'"));
}

// The joined room's actor, or nothing after answering not_joined.
caf::actor joined_room(connection_self* self, const reply_out& to, const std::string& ref,
                       const std::string& room) {
  auto& joined = self->state.joined;
  auto i = joined.find(room);
  if (i == joined.end()) {
    not_joined(self, to, ref, room);
    return nullptr;
  }
  return i->second;
}

// -- one handler per client command; `to` receives the command's reply --------

void handle(connection_self* self, const reply_out& to, msg::cmd_join& cmd) {
  join(self, to, std::move(cmd), 1);
}

void handle(connection_self* self, const reply_out& to, msg::cmd_leave& cmd) {
  auto& joined = self->state.joined;
  auto i = joined.find(cmd.room);
  if (i == joined.end())
    return push_reply(self, to, ok_event(cmd.ref)); // leaving is idempotent
  auto room = i->second;
  joined.erase(i);
  auto ref = std::move(cmd.ref);
  self->request(room, caf::infinite, msg::relay_leave{caf::actor_cast<caf::actor>(self)})
    .await([=](bool) { push_reply(self, to, ok_event(ref)); },
           [=](caf::error&) { push_reply(self, to, ok_event(ref)); });
}

void handle(connection_self* self, const reply_out& to, msg::cmd_send& cmd) {
  auto room_actor = joined_room(self, to, cmd.ref, cmd.room);
  if (!room_actor)
    return;
  auto ref = std::move(cmd.ref);
  auto room = cmd.room;
  auto id = cmd.id;
  self
    ->request(room_actor, caf::infinite,
              msg::room_post{self->state.user, std::move(cmd.id), std::move(cmd.body)})
    .then(
      [=](msg::post_result& r) { push_reply(self, to, ack_event(ref, room, id, r.seq, r.dup)); },
      [=](caf::error& err) { push_reply(self, to, error_frame(ref, err, self->system())); });
}

void handle(connection_self* self, const reply_out& to, msg::cmd_typing& cmd) {
  auto room_actor = joined_room(self, to, cmd.ref, cmd.room);
  if (!room_actor)
    return;
  self->send(room_actor, msg::room_typing{caf::actor_cast<caf::actor>(self), self->state.user});
  finish_silently(self, to, cmd.ref);
}

void handle(connection_self* self, const reply_out& to, msg::cmd_history& cmd) {
  auto ref = cmd.ref;
  self
    ->request(self->state.node.directory, caf::infinite,
              msg::read_history{cmd.room, cmd.before, cmd.after, cmd.has_after, cmd.limit,
                                cmd.ref})
    .then([=](frame& f) { push_reply(self, to, f); },
          [=](caf::error& err) { push_reply(self, to, error_frame(ref, err, self->system())); });
}

// A request to a joined room whose answer is a bool: on success `ok` (or, for
// commands without a reply, nothing), else the error frame.
template <class Request>
void ask_room(connection_self* self, const reply_out& to, const std::string& ref,
              const std::string& room, Request req, bool silent) {
  auto room_actor = joined_room(self, to, ref, room);
  if (!room_actor)
    return;
  self->request(room_actor, caf::infinite, std::move(req))
    .then(
      [=](bool) {
        if (silent)
          finish_silently(self, to, ref);
        else
          push_reply(self, to, ok_event(ref));
      },
      [=](caf::error& err) { push_reply(self, to, error_frame(ref, err, self->system())); });
}

void handle(connection_self* self, const reply_out& to, msg::cmd_read& cmd) {
  ask_room(self, to, cmd.ref, cmd.room,
           msg::room_read{caf::actor_cast<caf::actor>(self), self->state.user, cmd.seq}, false);
}

void handle(connection_self* self, const reply_out& to, msg::cmd_signal& cmd) {
  ask_room(self, to, cmd.ref, cmd.room,
           msg::room_signal{caf::actor_cast<caf::actor>(self), self->state.user,
                            std::move(cmd.to), std::move(cmd.data)},
           true);
}

void handle(connection_self* self, const reply_out& to, msg::cmd_presence& cmd) {
  watch(self, to, std::move(cmd));
}

void register_presence(connection_self* self) {
  self->request(self->state.node.directory, caf::infinite, msg::resolve_user{self->state.user})
    .then(
      [=](caf::actor& p) {
        auto& st = self->state;
        if (st.presence != p) { // two registrations may cross: monitor once
          if (st.presence)
            self->demonitor(st.presence);
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

// This user's presence shard went away or moved: register with the user's
// (new) home at the next heartbeat.
void lost_presence(connection_self* self) {
  self->state.presence = nullptr;
  self->delayed_send(self, std::chrono::milliseconds(300), msg::heartbeat_atom::value);
}

void lost_watched(connection_self* self, const std::string& user, caf::actor& p) {
  p = nullptr;
  self->delayed_send(self, std::chrono::milliseconds(300), msg::rewatch_atom::value, user,
                     self->state.watch.epoch);
}

caf::behavior connection_actor(connection_self* self, node_handles node, std::string user,
                               std::shared_ptr<outbox> out) {
  auto& st = self->state;
  st.node = std::move(node);
  st.user = std::move(user);
  st.out = std::move(out);
  // Register with this user's presence actor: the first heartbeat. When that
  // actor goes away (its node left the cluster), register with the user's new
  // home at the next heartbeat.
  register_presence(self);
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (st.presence && dm.source == st.presence.address())
      lost_presence(self);
    // A watched user's presence shard went away (its node left): watch the
    // users on their new homes, so that later changes keep arriving.
    auto& m = st.watch.monitored;
    m.erase(std::remove(m.begin(), m.end(), dm.source), m.end());
    for (auto& [user, p] : st.watch.actors)
      if (p && p.address() == dm.source)
        lost_watched(self, user, p);
  });
  // Each command arrives alone (from a WebSocket or SSE/poll stream: the reply
  // goes to the connection's outbox) or behind a reply_to (from POST /rpc).
  auto own = [self]() -> const reply_out& { return self->state.out; };
  return {
    [=](msg::cmd_join& c) { handle(self, own(), c); },
    [=](msg::reply_to& r, msg::cmd_join& c) { handle(self, r.out, c); },
    [=](msg::cmd_leave& c) { handle(self, own(), c); },
    [=](msg::reply_to& r, msg::cmd_leave& c) { handle(self, r.out, c); },
    [=](msg::cmd_send& c) { handle(self, own(), c); },
    [=](msg::reply_to& r, msg::cmd_send& c) { handle(self, r.out, c); },
    [=](msg::cmd_typing& c) { handle(self, own(), c); },
    [=](msg::reply_to& r, msg::cmd_typing& c) { handle(self, r.out, c); },
    [=](msg::cmd_history& c) { handle(self, own(), c); },
    [=](msg::reply_to& r, msg::cmd_history& c) { handle(self, r.out, c); },
    [=](msg::cmd_read& c) { handle(self, own(), c); },
    [=](msg::reply_to& r, msg::cmd_read& c) { handle(self, r.out, c); },
    [=](msg::cmd_signal& c) { handle(self, own(), c); },
    [=](msg::reply_to& r, msg::cmd_signal& c) { handle(self, r.out, c); },
    [=](msg::cmd_presence& c) { handle(self, own(), c); },
    [=](msg::reply_to& r, msg::cmd_presence& c) { handle(self, r.out, c); },
    [=](msg::presence_event& ev) {
      auto& w = self->state.watch;
      if (w.pending > 0) {
        // Bounded: presence events are ephemeral, and presence_state will carry
        // each watched user's state anyway; keep at most a few per watched user.
        if (w.held.size() < 4 * max_watched_users)
          w.held.push_back(std::move(ev));
        return;
      }
      if (w.actors.count(ev.info.user) > 0)
        self->state.out->push(ev.frame, frame_kind::ephemeral);
    },
    [=](msg::rewatch_atom, const std::string& user, uint64_t epoch) {
      auto me = caf::actor_cast<caf::actor>(self);
      self->request(self->state.node.directory, caf::infinite, msg::resolve_user{user})
        .then(
          [=](caf::actor& p) {
            auto& w = self->state.watch;
            auto i = w.actors.find(user);
            if (w.epoch != epoch || i == w.actors.end())
              return;
            i->second = p;
            monitor_shard(self, p);
            self->request(p, caf::infinite, msg::presence_watch{me, user})
              .then([](msg::presence_info&) {}, [](caf::error&) {});
          },
          [=](caf::error&) {
            self->delayed_send(self, std::chrono::milliseconds(300), msg::rewatch_atom::value,
                               user, epoch);
          });
    },
    [=](msg::heartbeat_atom) {
      auto& st = self->state;
      if (!st.presence)
        return register_presence(self);
      self->send(st.presence, msg::presence_heartbeat{caf::actor_cast<caf::actor>(self), st.user});
    },
    [=](msg::presence_moved_atom, const std::string& user) {
      auto& st = self->state;
      if (user == st.user && st.presence) {
        self->demonitor(st.presence);
        lost_presence(self);
      }
      auto i = st.watch.actors.find(user);
      if (i != st.watch.actors.end() && i->second)
        lost_watched(self, user, i->second);
    },
    [=](msg::closed_atom) {
      leave_all(self);
      self->state.out->close();
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_connection(caf::actor_system& sys, const node_handles& node, std::string user,
                            std::shared_ptr<outbox> out) {
  return sys.spawn(connection_actor, node, std::move(user), std::move(out));
}

} // namespace chat::actors
