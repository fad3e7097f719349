#include <algorithm>
#include <atomic>
#include <tuple>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/message_view.hpp>
#include <caf/type_erased_tuple.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/actors/mailbox.hpp"
#include "chat/actors/node.hpp"
#include "chat/actors/timeouts.hpp"
#include "connection_state.hpp"
#include "error_frame.hpp"
#include "store_messages.hpp"

namespace chat::actors {

namespace connection {

namespace {

// `counted`: the join counts in `joining` (the room was not joined) until it ends.
void join(connection_self* self, reply_out to, msg::cmd_join cmd, int attempt, bool counted) {
  auto& st = self->state;
  auto ended = [=] {
    if (counted)
      --self->state.joining;
  };
  self->request(st.directory, join_timeout, msg::resolve_relay{cmd.room})
    .await(
      [=](msg::relay_actor& relay) {
        auto& st = self->state;
        msg::relay_join req{
          caf::actor_cast<caf::actor>(self), st.user, st.out, cmd.ref, cmd.has_since, cmd.since,
          to != st.out ? to : nullptr};
        self->request(relay, join_timeout, std::move(req))
          .await(
            [=](bool) {
              auto& st = self->state;
              ended();
              auto j = st.joined_slot(cmd.room);
              if (j != st.joined.end() && j->first == cmd.room)
                j->second = relay;
              else
                st.joined.emplace(j, cmd.room, relay);
              done(self); // the relay pushed `joined` itself
            },
            [=](caf::error& err) {
              // The relay passivated while the join was on its way: ask again.
              // Not when the room itself refused (it cannot be written now):
              // each attempt would activate it again; the client resends.
              if (attempt < max_join_attempts && err.category() != caf::atom("chat"))
                return join(self, to, cmd, attempt + 1, counted);
              ended();
              push_reply(self, to, error_frame(cmd.ref, err, self->system()));
            });
      },
      [=](caf::error& err) {
        ended();
        push_reply(self, to, error_frame(cmd.ref, err, self->system()));
      });
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
    self->demonitor(st.presence.address());
  }
}

void not_joined(connection_self* self, const reply_out& to, const std::string& ref,
                const std::string& room) {
  push_reply(self, to,
             error_event(ref, wire_error::not_joined, "not joined to room '" + room + "'"));
}

// The joined room's actor, or nothing after answering not_joined.
msg::relay_actor joined_room(connection_self* self, const reply_out& to, const std::string& ref,
                             const std::string& room) {
  auto& st = self->state;
  auto i = st.find_joined(room);
  if (i == st.joined.end()) {
    not_joined(self, to, ref, room);
    return {};
  }
  return i->second;
}

// -- one handler per client command; `to` receives the command's reply --------

void handle(connection_self* self, const reply_out& to, msg::cmd_join& cmd) {
  auto& st = self->state;
  bool fresh = st.find_joined(cmd.room) == st.joined.end();
  if (fresh && st.joined.size() + st.joining >= max_rooms_per_connection)
    return push_reply(self, to,
                      error_event(cmd.ref, wire_error::forbidden,
                                  "a connection may be in at most "
                                    + std::to_string(max_rooms_per_connection)
                                    + " rooms; leave one first"));
  if (fresh)
    ++st.joining;
  join(self, to, std::move(cmd), 1, fresh);
}

void handle(connection_self* self, const reply_out& to, msg::cmd_leave& cmd) {
  auto& st = self->state;
  auto i = st.find_joined(cmd.room);
  if (i == st.joined.end())
    return push_reply(self, to, ok_event(cmd.ref)); // leaving is idempotent
  auto room = i->second;
  st.joined.erase(i);
  auto ref = std::move(cmd.ref);
  // Bounded: `await` holds every other command of this client until the answer,
  // and a relay that stops as the leave arrives may never give one.
  self->request(room, room_timeout, msg::relay_leave{caf::actor_cast<caf::actor>(self)})
    .await(
      [=](bool) {
        push_reply(self, to, ok_event(ref));
      },
      [=](caf::error&) {
        push_reply(self, to, ok_event(ref));
      });
}

void handle(connection_self* self, const reply_out& to, msg::cmd_send& cmd) {
  auto room_actor = joined_room(self, to, cmd.ref, cmd.room);
  if (!room_actor)
    return;
  auto ref = std::move(cmd.ref);
  auto room = cmd.room;
  auto id = cmd.id;
  self
    ->request(room_actor, room_timeout,
              msg::room_post{self->state.user, std::move(cmd.id), std::move(cmd.body)})
    .then(
      [=](msg::post_result& r) {
        push_reply(self, to, ack_event(ref, room, id, r.seq, r.dup));
      },
      [=](caf::error& err) {
        push_reply(self, to, error_frame(ref, err, self->system()));
      });
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
    ->request(self->state.directory, cross_node_timeout,
              msg::read_history{cmd.room, cmd.window, cmd.ref})
    .then(
      [=](frame& f) {
        push_reply(self, to, f);
      },
      [=](caf::error& err) {
        push_reply(self, to, error_frame(ref, err, self->system()));
      });
}

// A request to a joined room whose answer is a bool: on success `ok` (or, for
// commands without a reply, nothing), else the error frame.
template <class Request>
void ask_room(connection_self* self, const reply_out& to, const std::string& ref,
              const std::string& room, Request req, bool silent) {
  auto room_actor = joined_room(self, to, ref, room);
  if (!room_actor)
    return;
  self->request(room_actor, room_timeout, std::move(req))
    .then(
      [=](bool) {
        if (silent)
          finish_silently(self, to, ref);
        else
          push_reply(self, to, ok_event(ref));
      },
      [=](caf::error& err) {
        push_reply(self, to, error_frame(ref, err, self->system()));
      });
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

// A command arrives alone (from a WebSocket or SSE/poll stream: the reply goes
// to the connection's outbox) or behind a reply_to (from POST /rpc).
template <class Cmd>
bool command(connection_self* self, caf::type_erased_tuple& xs) {
  if (xs.match_elements<Cmd>()) {
    handle(self, self->state.out, xs.get_mutable_as<Cmd>(0));
    return true;
  }
  if (xs.match_elements<msg::reply_to, Cmd>()) {
    auto to = xs.get_as<msg::reply_to>(0).out;
    handle(self, to, xs.get_mutable_as<Cmd>(1));
    return true;
  }
  return false;
}

// The admin API's part of a connection that its actor holds (the inspector,
// inspector.cpp, adds the session's): rooms, users watched, bytes queued for
// the client, mailbox.
caf::message inspect(connection_self* self) {
  auto& st = self->state;
  std::vector<std::string> rooms;
  rooms.reserve(st.joined.size());
  for (auto& j : st.joined)
    rooms.push_back(j.first);
  uint64_t watching = st.watching ? st.watching->actors.size() : 0;
  return caf::make_message(std::move(rooms), watching, uint64_t{st.out->queued_bytes()},
                           mailbox_backlog(self));
}

/// The type of the shared behavior's one case; no message has it.
struct never_sent {};

// One `handle` overload per command of msg::actor_commands (a missing one
// does not compile).
template <class... Cmds>
bool any_command(connection_self* self, caf::type_erased_tuple& xs, msg::type_list<Cmds...>) {
  return (command<Cmds>(self, xs) || ...);
}

// Every message, for all connection actors: a CAF behavior keeps
// each of its cases (~45 bytes) in every actor, and twenty cases were ~0.9 KiB
// of each idle connection. The default handler is one function pointer.
caf::result<caf::message> dispatch(caf::scheduled_actor* ptr, caf::message_view& view) {
  auto* self = static_cast<connection_self*>(ptr);
  auto& xs = view.content();
  if (any_command(self, xs, msg::actor_commands{})) {
  } else if (xs.match_elements<msg::presence_event>()) {
    on_presence_event(self, xs.get_mutable_as<msg::presence_event>(0));
  } else if (xs.match_elements<msg::heartbeat_atom>()) {
    on_heartbeat(self);
  } else if (xs.match_elements<msg::rewatch_atom, std::string, uint64_t>()) {
    on_rewatch(self, xs.get_as<std::string>(1), xs.get_as<uint64_t>(2));
  } else if (xs.match_elements<msg::presence_moved_atom, std::string>()) {
    on_presence_moved(self, xs.get_as<std::string>(1));
  } else if (xs.match_elements<msg::inspect_atom>()) {
    return inspect(self);
  } else if (xs.match_elements<msg::closed_atom>()) {
    leave_all(self);
    self->state.out->close();
    self->quit();
  } else {
    // Logged, and a request gets an error (sec::unexpected_message).
    return caf::print_and_drop(ptr, view);
  }
  // Handled. Commands answer through the outbox, so a request gets an empty
  // reply rather than none (a request answered by nothing would wait forever).
  return caf::message{};
}

} // namespace

caf::behavior connection_actor::make_behavior() {
  auto* self = this;
  // Register with this user's presence: the first heartbeat. When its shard
  // goes away (its node left the cluster), register with the user's new home
  // at the next heartbeat.
  register_presence(self);
  set_down_handler([self](caf::down_msg& dm) {
    on_presence_down(self, dm);
  });
  set_default_handler(dispatch);
  // An actor needs a behavior to stay alive, and everything is handled by
  // `dispatch`: all connection actors share one behavior that never matches
  // (its one case captures nothing), instead of one allocated per actor.
  static const caf::behavior shared{[](never_sent) {}};
  return shared;
}

} // namespace connection

caf::actor spawn_connection(caf::actor_system& sys, const node_handles& node, std::string user,
                            std::shared_ptr<outbox> out) {
  return sys.spawn<connection::connection_actor>(node.directory, std::move(user),
                                                 std::move(out));
}

} // namespace chat::actors
