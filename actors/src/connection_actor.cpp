#include <atomic>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/actors/node.hpp"

namespace chat::actors {

namespace {

struct connection_state {
  std::string user;
  std::shared_ptr<outbox> out;
  node_handles node;
  std::unordered_map<std::string, caf::actor> joined;
  static inline const char* name = "connection";
};

using connection_self = caf::stateful_actor<connection_state>;

constexpr int max_join_attempts = 3;

// Maps an actor error once to the protocol's error frame. A storage failure is
// a bug or a broken disk: logged with a correlation id that the client sees.
frame error_frame(const std::string& ref, const caf::error& err, caf::actor_system& sys) {
  if (err.category() == caf::atom("chat")
      && err.code() == static_cast<uint8_t>(errc::storage_failed)) {
    static std::atomic<uint64_t> counter{0};
    auto id = "e" + std::to_string(++counter);
    spdlog::error("internal error {}: {}", id, sys.render(err));
    return error_event(ref, "internal", "internal error, correlation id " + id);
  }
  return error_event(ref, "unavailable", "the room is not reachable right now; retry");
}

void push_reply(connection_self* self, const frame& f) {
  self->state.out->push(f, frame_kind::reply);
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
  for (auto& [name, room] : self->state.joined)
    self->send(room, msg::room_leave{caf::actor_cast<caf::actor>(self)});
  self->state.joined.clear();
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
