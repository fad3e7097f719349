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
#include "chat/actors/node.hpp"
#include "store_messages.hpp"
#include "chat/actors/timeouts.hpp"
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

// Every byte here is paid by each idle connection (docs/benchmarks.md): the
// watch list exists only once the client watches someone, and the joined rooms
// are a sorted vector (one allocation; a hash map costs a bucket array and a
// node per room).
struct connection_state {
  std::string user;
  std::shared_ptr<outbox> out;
  caf::actor directory;
  std::vector<std::pair<std::string, caf::actor>> joined; ///< room -> this node's relay, by room
  caf::actor presence; ///< the presence shard of this user (monitored)
  std::unique_ptr<watch_state> watching;
  uint32_t joining = 0; ///< joins of rooms not joined yet, still on their way

  watch_state& watch() {
    if (!watching)
      watching = std::make_unique<watch_state>();
    return *watching;
  }

  /// Where `room` is or would be in `joined`.
  auto joined_slot(const std::string& room) {
    return std::lower_bound(joined.begin(), joined.end(), room,
                            [](auto& j, const std::string& r) { return j.first < r; });
  }

  auto find_joined(const std::string& room) {
    auto i = joined_slot(room);
    return i != joined.end() && i->first == room ? i : joined.end();
  }
};

/// A class rather than a function-based actor: `dispatch` (below) reaches the
/// state through the actor pointer CAF hands a default handler, and the spawn
/// arguments go straight into the state.
class connection_actor : public caf::event_based_actor {
public:
  connection_actor(caf::actor_config& cfg, caf::actor directory, std::string user,
                   std::shared_ptr<outbox> out) :
    caf::event_based_actor(cfg) {
    state.directory = std::move(directory);
    state.user = std::move(user);
    state.out = std::move(out);
  }

  [[nodiscard]] const char* name() const override { return "connection"; }

  caf::behavior make_behavior() override;

  connection_state state;
};

using connection_self = connection_actor;

/// Where a command's one reply goes: the connection's own outbox, or (for a
/// command that came through POST /rpc) the HTTP request's.
using reply_out = std::shared_ptr<outbox>;

constexpr int max_join_attempts = 3;
/// A room that does not answer within this (its node died, or it is taking the
/// room over) is reported `unavailable`; the client resends with the same id.
constexpr auto room_timeout = std::chrono::seconds(3);
/// The gateway caps a watch list at 1,000 users (PROTOCOL.md).
constexpr size_t max_watched_users = 1000;
/// Rooms one connection may be in at once: each costs a relay entry and a room
/// member (~6 KB with buffers), and 20,000 were once joined by one connection.
constexpr size_t max_rooms_per_connection = 256;

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

// `counted`: the join counts in `joining` (the room was not joined) until it ends.
void join(connection_self* self, reply_out to, msg::cmd_join cmd, int attempt, bool counted) {
  auto& st = self->state;
  auto ended = [=] {
    if (counted)
      --self->state.joining;
  };
  self->request(st.directory, join_timeout, msg::resolve_relay{cmd.room})
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
              if (attempt < max_join_attempts)
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

// Shards live as long as their node: a monitor left behind would stay in the
// shard after this actor stops, so every monitor is taken once and undone.
void monitor_shard(connection_self* self, const caf::actor& p) {
  auto& m = self->state.watch().monitored;
  if (std::find(m.begin(), m.end(), p.address()) != m.end())
    return;
  self->monitor(p);
  m.push_back(p.address());
}

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
  auto& w = self->state.watch();
  push_reply(self, w.reply, presence_state_event(w.ref, w.state));
  w.state.clear();
  for (auto& ev : w.held)
    if (w.actors.count(ev.info.user) > 0)
      self->state.out->push(ev.frame, frame_kind::ephemeral);
  w.held.clear();
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
        [=](caf::actor& p) {
          if (self->state.watch().epoch != epoch)
            return;
          self->state.watch().actors[user] = p;
          monitor_shard(self, p);
          self->request(p, cross_node_timeout, msg::presence_watch{me, user})
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
  push_reply(self, to, error_event(ref, wire_error::not_joined, "not joined to room '" + room + "'"));
}

// The joined room's actor, or nothing after answering not_joined.
caf::actor joined_room(connection_self* self, const reply_out& to, const std::string& ref,
                       const std::string& room) {
  auto& st = self->state;
  auto i = st.find_joined(room);
  if (i == st.joined.end()) {
    not_joined(self, to, ref, room);
    return nullptr;
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
    ->request(room_actor, room_timeout,
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
    ->request(self->state.directory, cross_node_timeout,
              msg::read_history{cmd.room, cmd.window,
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
  self->request(room_actor, room_timeout, std::move(req))
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
  self->request(self->state.directory, cross_node_timeout, msg::resolve_user{self->state.user})
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
                     self->state.watch().epoch);
}

void on_down(connection_self* self, caf::down_msg& dm) {
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
      [=](caf::actor& p) {
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
    self->demonitor(st.presence);
    lost_presence(self);
  }
  if (!st.watching)
    return;
  auto i = st.watching->actors.find(user);
  if (i != st.watching->actors.end() && i->second)
    lost_watched(self, user, i->second);
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

/// The type of the shared behavior's one case; no message has it.
struct never_sent {};

// One `handle` overload per command of msg::actor_commands (a missing one
// does not compile).
template <class... Cmds>
bool any_command(connection_self* self, caf::type_erased_tuple& xs,
                 msg::type_list<Cmds...>) {
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

caf::behavior connection_actor::make_behavior() {
  auto* self = this;
  // Register with this user's presence: the first heartbeat. When its shard
  // goes away (its node left the cluster), register with the user's new home
  // at the next heartbeat.
  register_presence(self);
  set_down_handler([self](caf::down_msg& dm) { on_down(self, dm); });
  set_default_handler(dispatch);
  // An actor needs a behavior to stay alive, and everything is handled by
  // `dispatch`: all connection actors share one behavior that never matches
  // (its one case captures nothing), instead of one allocated per actor.
  static const caf::behavior shared{[](never_sent) {}};
  return shared;
}

} // namespace

caf::actor spawn_connection(caf::actor_system& sys, const node_handles& node, std::string user,
                            std::shared_ptr<outbox> out) {
  return sys.spawn<connection_actor>(node.directory, std::move(user), std::move(out));
}

} // namespace chat::actors
