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
  std::unordered_map<std::string, caf::actor> actors; ///< watched user -> presence actor
  std::vector<std::tuple<std::string, bool, int64_t>> state; ///< gathered replies
  size_t pending = 0;                   ///< replies still expected this epoch
  std::vector<msg::presence_event> held; ///< changes that overtook presence_state
};

struct connection_state {
  std::string user;
  std::shared_ptr<outbox> out;
  node_handles node;
  std::unordered_map<std::string, caf::actor> joined;
  caf::actor presence; ///< this user's presence actor
  watch_state watch;
  static inline const char* name = "connection";
};

using connection_self = caf::stateful_actor<connection_state>;

constexpr int max_join_attempts = 3;
/// The gateway caps a watch list at 1,000 users (PROTOCOL.md).
constexpr size_t max_watched_users = 1000;

// A client command is finished: the session may read more (see outbox's
// command accounting). Every command ends in exactly one call.
void done(connection_self* self) {
  self->state.out->command_done();
}

// The one reply that finishes a command.
void push_reply(connection_self* self, const frame& f) {
  self->state.out->push(f, frame_kind::reply);
  done(self);
}

void join(connection_self* self, msg::cmd_join cmd, int attempt) {
  auto& st = self->state;
  self->request(st.node.directory, caf::infinite, msg::resolve_room{cmd.room})
    .await(
      [=](caf::actor& room) {
        auto& st = self->state;
        msg::room_join req{caf::actor_cast<caf::actor>(self),
                           st.user,
                           st.out,
                           cmd.ref,
                           cmd.has_since,
                           cmd.since};
        self->request(room, caf::infinite, std::move(req))
          .await(
            [=](uint64_t) {
              self->state.joined[cmd.room] = room;
              done(self); // the room pushed `joined` itself
            },
            [=](caf::error& err) {
              // The room passivated while the join was on its way: ask again.
              if (attempt < max_join_attempts)
                join(self, cmd, attempt + 1);
              else
                push_reply(self, error_frame(cmd.ref, err, self->system()));
            });
      },
      [=](caf::error& err) {
        push_reply(self, error_frame(cmd.ref, err, self->system()));
      });
}

void leave_all(connection_self* self) {
  auto me = caf::actor_cast<caf::actor>(self);
  for (auto& [name, room] : self->state.joined)
    self->send(room, msg::room_leave{me});
  self->state.joined.clear();
  for (auto& [name, p] : self->state.watch.actors)
    self->send(p, msg::presence_unwatch{me});
  if (self->state.presence)
    self->send(self->state.presence, msg::presence_disconnect{me});
}

void finish_watch(connection_self* self) {
  auto& w = self->state.watch;
  push_reply(self, presence_state_event(w.ref, w.state));
  w.state.clear();
  for (auto& ev : w.held)
    if (w.actors.count(ev.info.user) > 0)
      self->state.out->push(ev.frame, frame_kind::ephemeral);
  w.held.clear();
}

// Replaces the watch list: unwatch the old users, watch the new ones, and
// answer presence_state once every presence actor has told its state.
void watch(connection_self* self, msg::cmd_presence cmd) {
  auto& st = self->state;
  auto me = caf::actor_cast<caf::actor>(self);
  for (auto& [name, p] : st.watch.actors)
    self->send(p, msg::presence_unwatch{me});
  if (st.watch.pending > 0)
    done(self); // the superseded presence command gets no presence_state
  auto epoch = st.watch.epoch + 1;
  st.watch = watch_state{};
  st.watch.epoch = epoch;
  st.watch.ref = std::move(cmd.ref);
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
          self->request(p, caf::infinite, msg::presence_watch{me})
            .then(
              [=](msg::presence_info& info) {
                answered({info.user, info.online, info.last_seen});
              },
              [=](caf::error&) { answered({user, false, 0}); });
        },
        [=](caf::error&) { answered({user, false, 0}); });
  }
}

caf::behavior connection_actor(connection_self* self, node_handles node, std::string user,
                               std::shared_ptr<outbox> out) {
  auto& st = self->state;
  st.node = std::move(node);
  st.user = std::move(user);
  st.out = std::move(out);
  auto not_joined = [=](const std::string& ref, const std::string& room) {
    push_reply(self, error_event(ref, "not_joined", "not joined to room '" + room + "'"));
  };
  // Register with this user's presence actor: the first heartbeat.
  self->request(st.node.directory, caf::infinite, msg::resolve_user{st.user})
    .then([=](caf::actor& p) {
      self->state.presence = p;
      self->send(p, msg::presence_heartbeat{caf::actor_cast<caf::actor>(self)});
    });
  // A room command that needs membership: not_joined, or the room's reply
  // mapped to ok / an error frame.
  auto room_request = [=](const std::string& ref, const std::string& room, auto req) {
    auto& joined = self->state.joined;
    auto i = joined.find(room);
    if (i == joined.end())
      return not_joined(ref, room);
    self->request(i->second, caf::infinite, std::move(req))
      .then([=](bool) { done(self); },
            [=](caf::error& err) { push_reply(self, error_frame(ref, err, self->system())); });
  };
  return {
    [=](msg::cmd_join& cmd) {
      join(self, std::move(cmd), 1);
    },
    [=](msg::cmd_leave& cmd) {
      auto& joined = self->state.joined;
      auto i = joined.find(cmd.room);
      if (i == joined.end()) {
        push_reply(self, ok_event(cmd.ref)); // leaving is idempotent
        return;
      }
      auto room = i->second;
      joined.erase(i);
      self->request(room, caf::infinite, msg::room_leave{caf::actor_cast<caf::actor>(self)})
        .await(
          [=]() {
            push_reply(self, ok_event(cmd.ref));
          },
          [=](caf::error&) {
            push_reply(self, ok_event(cmd.ref));
          });
    },
    [=](msg::cmd_send& cmd) {
      auto& st = self->state;
      auto i = st.joined.find(cmd.room);
      if (i == st.joined.end())
        return not_joined(cmd.ref, cmd.room);
      auto ref = std::move(cmd.ref);
      auto room = cmd.room;
      auto id = cmd.id;
      self
        ->request(i->second, caf::infinite,
                  msg::room_post{st.user, std::move(cmd.id), std::move(cmd.body)})
        .then(
          [=](msg::post_result& r) {
            push_reply(self, ack_event(ref, room, id, r.seq, r.dup));
          },
          [=](caf::error& err) {
            push_reply(self, error_frame(ref, err, self->system()));
          });
    },
    [=](msg::cmd_typing& cmd) {
      auto& st = self->state;
      auto i = st.joined.find(cmd.room);
      if (i == st.joined.end())
        return not_joined(cmd.ref, cmd.room);
      self->send(i->second, msg::room_typing{caf::actor_cast<caf::actor>(self), st.user});
      done(self);
    },
    [=](msg::cmd_history& cmd) {
      auto& st = self->state;
      auto ref = cmd.ref;
      auto room = cmd.room;
      self
        ->request(st.node.store, caf::infinite,
                  msg::store_read{cmd.room, cmd.before, cmd.after, cmd.has_after, cmd.limit})
        .then(
          [=](msg::message_list& xs) {
            push_reply(self, history_event(ref, room, xs));
          },
          [=](caf::error& err) {
            push_reply(self, error_frame(ref, err, self->system()));
          });
    },
    [=](msg::cmd_read& cmd) {
      auto ref = cmd.ref;
      auto& joined = self->state.joined;
      auto i = joined.find(cmd.room);
      if (i == joined.end())
        return not_joined(cmd.ref, cmd.room);
      self
        ->request(i->second, caf::infinite,
                  msg::room_read{caf::actor_cast<caf::actor>(self), self->state.user, cmd.seq})
        .then([=](bool) { push_reply(self, ok_event(ref)); },
              [=](caf::error& err) { push_reply(self, error_frame(ref, err, self->system())); });
    },
    [=](msg::cmd_signal& cmd) {
      room_request(cmd.ref, cmd.room,
                   msg::room_signal{caf::actor_cast<caf::actor>(self), self->state.user,
                                    std::move(cmd.to), std::move(cmd.data)});
    },
    [=](msg::cmd_presence& cmd) { watch(self, std::move(cmd)); },
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
    [=](msg::heartbeat_atom) {
      if (self->state.presence)
        self->send(self->state.presence,
                   msg::presence_heartbeat{caf::actor_cast<caf::actor>(self)});
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
