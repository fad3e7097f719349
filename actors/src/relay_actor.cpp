#include "relay_actor.hpp"

#include <unordered_map>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/mailbox.hpp"
#include "chat/runtime/clock.hpp"
#include "chat/runtime/log.hpp"
#include "relay_state.hpp"

namespace chat::actors {

namespace relay {

namespace {

caf::error moving(relay_self self) {
  return caf::make_error(errc::room_unavailable, "room '" + self->state.room + "' is moving");
}

// A member's request for the room. Not delegated: when the room's node fails,
// the requests it had not answered are answered here at once (`unavailable`,
// the client resends) instead of running into the member's timeout.
template <class Result, class Request>
caf::typed_response_promise<Result> to_room(relay_self self, Request&& x) {
  auto& st = self->state;
  auto rp = self->template make_response_promise<Result>();
  if (!st.home) {
    rp.deliver(moving(self));
    return rp;
  }
  auto id = ++st.last_request;
  st.in_flight.emplace(id, static_cast<caf::response_promise&>(rp));
  auto answer = [=](auto&& result) {
    auto& pending = self->state.in_flight;
    if (auto i = pending.find(id); i != pending.end()) {
      i->second.deliver(std::forward<decltype(result)>(result));
      pending.erase(i);
    }
  };
  self->request(st.home, room_request_timeout, std::forward<Request>(x))
    .then(
      [=](Result& r) mutable {
        answer(std::move(r));
      },
      [=](caf::error& err) mutable {
        answer(std::move(err));
      });
  return rp;
}

void fail_in_flight(relay_self self) {
  auto pending = std::move(self->state.in_flight);
  self->state.in_flight.clear();
  for (auto& [id, rp] : pending)
    rp.deliver(caf::make_error(errc::room_unavailable,
                               "room '" + self->state.room + "': its node failed; resend"));
}

void arm_idle_timer(relay_self self) {
  auto& st = self->state;
  ++st.idle_epoch;
  if (st.members.empty())
    self->delayed_send(self, relay_idle, msg::idle_atom::value, st.idle_epoch);
}

void push_to_live(relay_self self, const frame& f, frame_kind kind,
                  const std::string& except_user = {}) {
  for (auto& [id, m] : self->state.members)
    if (m.live && (except_user.empty() || m.user != except_user))
      m.out->push(f, kind);
}

void remove_member(relay_self self, caf::actor_id key) {
  auto& st = self->state;
  auto i = st.members.find(key);
  if (i == st.members.end())
    return;
  if (st.home)
    self->send(st.home, msg::room_leave{i->second.conn});
  st.members.erase(i);
  if (st.members.empty())
    arm_idle_timer(self);
}

void rejoin_all(relay_self self, int attempt);

// The room's actor is known: watch it, so that the relay notices when its node
// leaves and moves its members to the room's next home.
void bind_home(relay_self self, msg::room_actor home) {
  self->state.home = std::move(home);
  self->monitor(self->state.home);
}

// The room moved (its home node left or failed): find its new home and join
// every member there again, each from what it has already received.
void rejoin_all(relay_self self, int attempt) {
  auto& st = self->state;
  self->request(st.directory, resolve_timeout, msg::resolve_room{st.room})
    .await(
      [=](msg::room_actor& home) {
        bind_home(self, home);
        auto me = caf::actor_cast<msg::relay_actor>(self);
        for (auto& [key, m] : self->state.members) {
          m.live = false;
          m.generation = ++self->state.generation;
          auto key_copy = key;
          self
            ->request(home, resolve_timeout,
                      msg::room_join{m.conn, m.user, me, "", self->state.node_id})
            .then(
              [=](msg::room_joined& j) {
                auto& st = self->state;
                st.seq = std::max(st.seq, j.seq);
                auto i = st.members.find(key_copy);
                if (i == st.members.end())
                  return;
                i->second.trimmed = j.trimmed;
                i->second.out->push(j.joined, frame_kind::reply);
                catch_up(self, key_copy);
              },
              [=](caf::error&) {
                // The new home went away as well (it stepped down, or its node
                // failed): once for all members, look for the room again.
                auto& st = self->state;
                if (st.home != home)
                  return;
                st.home = nullptr;
                fail_in_flight(self);
                self->delayed_send(self, std::chrono::milliseconds(200),
                                   msg::rejoin_atom::value, 2);
              });
        }
      },
      [=](caf::error& err) {
        if (attempt < max_resolve_attempts) {
          self->delayed_send(self, std::chrono::milliseconds(200 * attempt),
                             msg::rejoin_atom::value, attempt + 1);
          return;
        }
        runtime::log_context cid{"room:" + self->state.room};
        spdlog::error("room '{}': no home to move to: {}", self->state.room,
                      self->system().render(err));
        for (auto& [key, m] : self->state.members)
          m.out->close(); // the clients reconnect and rejoin with `since`
      });
}

// Joins one local connection at the room. The room's actor may have passivated
// (when the room was empty) or moved since the relay last saw it: then the
// relay finds the room again and retries.
void join_member(relay_self self, msg::relay_join x, caf::typed_response_promise<bool> rp,
                 int attempt) {
  auto& st = self->state;
  if (!st.home) {
    self->request(st.directory, resolve_timeout, msg::resolve_room{st.room})
      .await(
        [=](msg::room_actor& home) mutable {
          bind_home(self, home);
          join_member(self, std::move(x), std::move(rp), attempt);
        },
        [=](caf::error& err) mutable {
          rp.deliver(err);
        });
    return;
  }
  auto me = caf::actor_cast<msg::relay_actor>(self);
  auto home = st.home;
  auto id = ++st.last_request;
  st.joins.emplace(id, pending_join{x, rp, attempt, home.address()});
  // `then`, not `await`: events the room sent before its answer (the member
  // event of this very join) must be handled first, so that they do not reach
  // the new member.
  self
    ->request(home, resolve_timeout,
              msg::room_join{x.conn, x.user, me, x.ref, self->state.node_id})
    .then(
      [=](msg::room_joined& j) mutable {
        auto& st = self->state;
        if (st.joins.erase(id) == 0)
          return; // settled by the room's end
        st.seq = std::max(st.seq, j.seq);
        auto key = x.conn.id();
        if (st.members.count(key) == 0)
          self->monitor(x.conn);
        auto& m = st.members[key];
        m.conn = x.conn;
        m.user = x.user;
        m.out = x.out;
        m.generation = ++st.generation;
        m.live = false;
        m.delivered = x.has_since ? std::min(x.since, j.seq) : j.seq;
        m.trimmed = j.trimmed;
        m.out->push(j.joined, frame_kind::reply);
        if (x.reply)
          x.reply->push(j.joined, frame_kind::reply);
        catch_up(self, key);
        rp.deliver(true);
      },
      [=](caf::error& err) mutable {
        auto& st = self->state;
        // The room's actor is gone: its down message (monitored since
        // bind_home) says why, and settles the join.
        if (err == caf::sec::request_receiver_down || st.joins.count(id) == 0)
          return;
        st.joins.erase(id);
        if (err != caf::sec::request_timeout || attempt >= max_resolve_attempts) {
          rp.deliver(err);
          return;
        }
        if (st.home == home)
          st.home = nullptr;
        join_member(self, std::move(x), std::move(rp), attempt + 1);
      });
}

// Joins sent to a room's actor that ended. Not left to the request's own error:
// CAF 0.17.6 bounces a request still in a local actor's mailbox when it quits
// (a helper measured 854,000 of 854,000), but one to a remote actor may go
// unanswered while its down message arrives (actor-framework#1466), and about
// one join in 20 to a room refusing to activate here waited out its timeout.
// A room that ended with one of this module's errors (it cannot be written now: too few nodes,
// a failed take-over, a full disk) answers them with it, and the client resends after
// `retry_after_ms`; one that moved, passivated or lost its node is found again.
void settle_joins(relay_self self, const caf::down_msg& dm) {
  auto& st = self->state;
  std::vector<pending_join> ended;
  for (auto i = st.joins.begin(); i != st.joins.end();)
    if (i->second.home == dm.source) {
      ended.push_back(std::move(i->second));
      i = st.joins.erase(i);
    } else {
      ++i;
    }
  bool refused = dm.reason && dm.reason.category() == caf::atom("chat");
  for (auto& j : ended) {
    if (refused || j.attempt >= max_resolve_attempts)
      j.rp.deliver(refused ? dm.reason : caf::error{caf::sec::request_receiver_down});
    else
      join_member(self, std::move(j.request), std::move(j.rp), j.attempt + 1);
  }
}

// The room's actor stopped (its node left or failed: follow the room to its
// new home), or a member's connection did.
void on_down(relay_self self, const caf::down_msg& dm) {
  auto& st = self->state;
  bool was_home = dm.source == st.home.address();
  if (was_home)
    st.home = nullptr;
  settle_joins(self, dm); // also joins sent to an earlier home
  if (was_home) {
    fail_in_flight(self);
    if (!st.members.empty())
      rejoin_all(self, 1);
    return;
  }
  for (auto& [key, m] : st.members)
    if (m.conn.address() == dm.source) {
      remove_member(self, key);
      return;
    }
}

// The messages of one commit, to every caught-up member, each once and in order.
void fan_out(relay_self self, const msg::relay_msg& x) {
  auto& st = self->state;
  for (auto& [seq, f, received_us] : x.frames) {
    st.seq = std::max(st.seq, seq);
    st.recent.push(seq, f);
  }
  uint64_t pushed = 0;
  for (auto& [id, m] : st.members) {
    for (auto& [seq, f, received_us] : x.frames) {
      if (!m.live || seq <= m.delivered)
        continue;
      if (seq == m.delivered + 1) {
        m.out->push(f, frame_kind::stored);
        m.delivered = seq;
        ++pushed;
      } else { // a gap (the room moved): fetch what is missing first
        m.live = false;
        catch_up(self, id);
      }
    }
  }
  // Once per message and node (not per member): when the room received it
  // until its relay pushed it to the node's members.
  if (!st.members.empty() && st.metrics) {
    st.metrics->deliveries.fetch_add(pushed, std::memory_order_relaxed);
    auto now = runtime::wall_us();
    for (auto& f : x.frames)
      if (f.received_us != 0)
        st.metrics->delivery_us.observe(
          static_cast<uint64_t>(std::max<int64_t>(now - f.received_us, 0)));
  }
}

void passivate_if_idle(relay_self self, uint64_t epoch) {
  auto& st = self->state;
  if (epoch != st.idle_epoch || !st.members.empty())
    return;
  self->request(st.directory, caf::infinite, msg::passivate_relay_atom::value, st.room)
    .await([=](bool ok) {
      if (ok)
        self->quit();
    });
}

msg::relay_actor::behavior_type relay_actor(relay_self self, std::string room,
                                            msg::directory_actor directory, std::string node_id,
                                            std::shared_ptr<node_metrics> metrics) {
  auto& st = self->state;
  st.metrics = std::move(metrics);
  st.node_id = std::move(node_id);
  st.room = std::move(room);
  st.directory = std::move(directory);
  // Nothing is handled before the relay knows the room's actor.
  self->request(st.directory, resolve_timeout, msg::resolve_room{st.room})
    .await(
      [=](msg::room_actor& home) {
        bind_home(self, home);
      },
      [=](caf::error& err) {
        runtime::log_context cid{"room:" + self->state.room};
        spdlog::error("room '{}': cannot resolve: {}", self->state.room,
                      self->system().render(err));
        self->quit(err);
      });
  self->set_down_handler([=](caf::down_msg& dm) {
    on_down(self, dm);
  });
  arm_idle_timer(self);
  return {
    [=](msg::relay_join& x) {
      ++self->state.idle_epoch;
      auto rp = self->make_response_promise<bool>();
      join_member(self, std::move(x), rp, 1);
      return rp;
    },
    [=](msg::relay_leave& x) -> bool {
      self->demonitor(x.conn.address());
      remove_member(self, x.conn.id());
      return true;
    },
    [=](msg::relay_msg& x) {
      if (auto& m = self->state.metrics)
        m->note_mailbox(node_metrics::actor_kind::relay, mailbox_backlog(self));
      fan_out(self, x);
    },
    [=](msg::relay_event& x) {
      push_to_live(self, x.frame, x.ephemeral ? frame_kind::ephemeral : frame_kind::reply,
                   x.except_user);
    },
    [=](msg::relay_unicast& x) {
      auto& members = self->state.members;
      for (auto id : x.conns)
        if (auto i = members.find(id); i != members.end())
          i->second.out->push(x.frame, frame_kind::reply);
    },
    // What members send to the room goes through: the relay always knows where
    // the room is, also after it moved.
    [=](msg::room_post& x) {
      return to_room<msg::post_result>(self, std::move(x));
    },
    [=](msg::room_typing& x) {
      if (self->state.home)
        self->send(self->state.home, std::move(x));
    },
    [=](msg::room_read& x) {
      return to_room<bool>(self, std::move(x));
    },
    [=](msg::room_signal& x) {
      return to_room<bool>(self, std::move(x));
    },
    [=](msg::rejoin_atom, int attempt) {
      rejoin_all(self, attempt);
    },
    [=](msg::replay_atom, caf::actor_id key, uint64_t generation) {
      auto& members = self->state.members;
      if (auto i = members.find(key); i != members.end() && i->second.generation == generation)
        catch_up(self, key);
    },
    [=](msg::inspect_atom, msg::mailbox_atom) {
      return mailbox_backlog(self);
    },
    [=](msg::idle_atom, uint64_t epoch) {
      passivate_if_idle(self, epoch);
    },
  };
}

} // namespace

} // namespace relay

msg::relay_actor spawn_relay(caf::local_actor* parent, std::string room,
                             msg::directory_actor directory, std::string node_id,
                             std::shared_ptr<node_metrics> metrics) {
  return parent->spawn(relay::relay_actor, std::move(room), std::move(directory),
                       std::move(node_id), std::move(metrics));
}

} // namespace chat::actors
