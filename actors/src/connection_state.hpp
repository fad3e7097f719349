#pragma once

// The connection actor's state and the parts of it that its two files share:
// connection_actor.cpp (rooms, commands, dispatch) and connection_presence.cpp
// (this user's presence, the watch list).

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>

#include "chat/actors/events.hpp"
#include "chat/actors/outbox.hpp"
#include "store_messages.hpp"

namespace chat::actors::connection {

// The presence watch list of a connection. A new `presence` command starts a
// new epoch; replies of older epochs are ignored.
struct watch_state {
  uint64_t epoch = 0;
  std::string ref;
  std::shared_ptr<outbox> reply; ///< where presence_state goes
  std::unordered_map<std::string, msg::presence_shard_actor> actors; ///< watched user -> shard
  std::vector<caf::actor_addr> monitored; ///< the shards of the watched users, once each
  std::vector<std::tuple<std::string, bool, int64_t>> state; ///< gathered replies
  size_t pending = 0;                    ///< replies still expected this epoch
  std::vector<msg::presence_event> held; ///< changes that overtook presence_state
};

// Every byte here is paid by each idle connection (docs/benchmarks.md): the
// watch list exists only once the client watches someone, and the joined rooms
// are a sorted vector (one allocation; a hash map costs a bucket array and a
// node per room).
struct connection_state {
  std::string user;
  std::shared_ptr<outbox> out;
  msg::directory_actor directory;
  std::vector<std::pair<std::string, msg::relay_actor>>
    joined;                           ///< room -> this node's relay, by room
  msg::presence_shard_actor presence; ///< the presence shard of this user (monitored)
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
                            [](auto& j, const std::string& r) {
                              return j.first < r;
                            });
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
    state.directory = caf::actor_cast<msg::directory_actor>(std::move(directory));
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
inline void done(connection_self* self) {
  self->state.out->command_done();
}

// The one reply that finishes a command.
inline void push_reply(connection_self* self, const reply_out& to, const frame& f) {
  to->push(f, frame_kind::reply);
  done(self);
}

// A command without a reply on a WebSocket (typing, a delivered signal) is
// finished; over /rpc, where every request needs an answer, it gets `ok`.
inline void finish_silently(connection_self* self, const reply_out& to,
                            const std::string& ref) {
  if (to != self->state.out)
    to->push(ok_event(ref), frame_kind::reply);
  done(self);
}

// -- presence (connection_presence.cpp) -----------------------------------------

/// Replaces the watch list (the `presence` command).
void watch(connection_self* self, reply_out to, msg::cmd_presence cmd);
/// Stops watching every user and forgets their shards.
void unwatch_all(connection_self* self);
/// The first heartbeat: registers with this user's presence shard.
void register_presence(connection_self* self);
void on_heartbeat(connection_self* self);
/// A monitored presence shard (this user's, or a watched user's) went away.
void on_presence_down(connection_self* self, const caf::down_msg& dm);
void on_presence_event(connection_self* self, msg::presence_event& ev);
void on_rewatch(connection_self* self, const std::string& user, uint64_t epoch);
void on_presence_moved(connection_self* self, const std::string& user);

} // namespace chat::actors::connection
