#include "room_actor.hpp"

#include <algorithm>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/actors/mailbox.hpp"
#include "chat/runtime/clock.hpp"
#include "chat/runtime/log.hpp"
#include "history_read.hpp"
#include "recent_frames.hpp"
#include "room_replication.hpp"
#include "room_roster.hpp"
#include "room_state.hpp"

namespace chat::actors {

namespace room {

namespace {

/// At most one typing signal per user per room per second is relayed.
constexpr int64_t typing_interval_ms = 1000;
constexpr uint32_t max_fetch = 1000;

void arm_idle_timer(room_self self) {
  auto& st = self->state;
  ++st.idle_epoch;
  if (st.members.empty())
    self->delayed_send(self, st.idle, msg::idle_atom::value, st.idle_epoch);
}

// An event for every relay, which passes it to its caught-up members.
void broadcast(room_self self, const frame& f, bool ephemeral,
               const std::string& except_user = {}) {
  for (auto& [addr, r] : self->state.relays)
    self->send(r.relay, msg::relay_event{f, ephemeral, except_user});
}

// Sends a membership change now, or arranges for the coalesced ones to go out.
void announce(room_self self, std::optional<frame> now, bool schedule_flush) {
  if (now)
    broadcast(self, *now, false);
  if (schedule_flush)
    self->delayed_send(self, room_roster::coalesce_interval, msg::roster_atom::value);
}

void remove_member(room_self self, const caf::actor_addr& conn) {
  auto& st = self->state;
  auto i = st.members.find(conn);
  if (i == st.members.end())
    return;
  bool flush = false;
  auto user = std::move(i->second.user);
  auto relay = i->second.relay.address();
  st.members.erase(i);
  if (auto r = st.relays.find(relay); r != st.relays.end() && --r->second.members == 0) {
    self->demonitor(relay);
    st.relays.erase(r);
  }
  auto now = st.roster.remove(st.room, user, flush);
  announce(self, std::move(now), flush);
  if (st.members.empty())
    arm_idle_timer(self);
}

// A relay stopped (or its node left): its connections are no longer members.
void remove_relay(room_self self, const caf::actor_addr& relay) {
  auto& members = self->state.members;
  std::vector<caf::actor_addr> gone;
  for (auto& [addr, m] : members)
    if (m.relay.address() == relay)
      gone.push_back(addr);
  for (auto& addr : gone)
    remove_member(self, addr);
  self->state.relays.erase(relay);
}

// Stored messages after `after`: from the recent frames when they reach back
// far enough, else from the store.
caf::result<msg::seq_frames> fetch(room_self self, msg::room_fetch x) {
  auto& st = self->state;
  auto limit = std::min(x.limit, max_fetch);
  x.after = std::max(x.after, st.meta.trimmed); // never from memory what retention removed
  if (!st.recent.empty() && st.recent.first_seq() <= x.after + 1) {
    msg::seq_frames out;
    for (auto& [seq, f] : st.recent) {
      if (seq <= x.after)
        continue;
      if (out.size() == limit)
        break;
      out.push_back(msg::seq_frame{seq, f});
    }
    return out;
  }
  auto rp = self->make_response_promise<msg::seq_frames>();
  self->request(st.store, caf::infinite, msg::store_read{st.room, {0, x.after, limit}})
    .then(
      [=](msg::message_list& xs) mutable {
        msg::seq_frames out;
        out.reserve(xs.size());
        for (auto& r : xs)
          if (r.seq <= self->state.meta.seq) // only what was acked (ADR 8)
            out.push_back(msg::seq_frame{r.seq, message_event(self->state.room, r)});
        rp.deliver(std::move(out));
      },
      [=](caf::error& err) mutable {
        rp.deliver(err);
      });
  return rp;
}

// A connection of `x.user` joins through its node's relay.
msg::room_joined join(room_self self, msg::room_join& x) {
  auto& st = self->state;
  auto addr = x.conn.address();
  if (st.members.count(addr) == 0) {
    bool flush = false;
    auto now = st.roster.add(st.room, x.user, flush);
    announce(self, std::move(now), flush);
    auto& r = st.relays[x.relay.address()];
    if (r.members++ == 0) {
      r.relay = x.relay;
      r.node = x.node;
      self->monitor(x.relay);
    }
    st.members.emplace(addr, member{x.user, x.relay});
  }
  ++st.idle_epoch;
  return {st.roster.joined(x.ref, st.room, st.meta.seq, st.receipts), st.meta.seq,
          st.meta.trimmed};
}

// A read receipt: stored (group-committed), then told to the members.
caf::result<bool> read(room_self self, msg::room_read& x) {
  auto& st = self->state;
  if (st.members.count(x.conn.address()) == 0)
    return caf::make_error(errc::not_joined);
  if (x.seq > st.meta.seq)
    return caf::make_error(errc::bad_argument, "seq " + std::to_string(x.seq)
                                                 + " is beyond the room's last seq "
                                                 + std::to_string(st.meta.seq));
  auto& current = st.receipts[x.user];
  if (x.seq <= current)
    return true; // receipts only move forward; an older one is ignored
  current = x.seq;
  st.roster.receipts_changed();
  auto rp = self->make_response_promise<bool>();
  self->request(st.store, caf::infinite, msg::store_receipt{{st.room, x.user, x.seq}})
    .then(
      [=](bool) mutable {
        auto& st = self->state;
        broadcast(self, read_event(st.room, x.user, x.seq), false);
        rp.deliver(true);
      },
      [=](caf::error& err) mutable {
        rp.deliver(err);
      });
  return rp;
}

// A signal to one user's connections in the room (WebRTC negotiation).
caf::result<bool> signal(room_self self, msg::room_signal& x) {
  auto& st = self->state;
  if (st.members.count(x.conn.address()) == 0)
    return caf::make_error(errc::not_joined);
  // The connections of `to`, grouped by relay: one message per node.
  std::unordered_map<caf::actor_addr, msg::relay_unicast> per_relay;
  for (auto& [addr, m] : st.members)
    if (m.user == x.to)
      per_relay[m.relay.address()].conns.push_back(addr.id());
  if (per_relay.empty())
    return caf::make_error(errc::not_found, "'" + x.to + "' is not in room '" + st.room + "'");
  auto f = signal_event(st.room, x.from, x.data);
  for (auto& [relay, u] : per_relay) {
    u.frame = f;
    self->send(st.relays[relay].relay, std::move(u));
  }
  return true;
}

// An ephemeral typing signal, at most one per user per interval.
void typing(room_self self, const msg::room_typing& x) {
  auto& st = self->state;
  if (st.members.count(x.conn.address()) == 0)
    return;
  auto now = runtime::steady_ms();
  auto& last = st.last_typing_ms[x.user];
  if (last != 0 && now - last < typing_interval_ms)
    return; // throttled: dropped silently
  last = now;
  broadcast(self, typing_event(st.room, x.user), true, x.user);
}

// The room's home moved: answered once the commit in flight is done.
caf::result<bool> start_move(room_self self) {
  auto& st = self->state;
  if (st.moving)
    return true;
  st.moving = true;
  st.moved = self->make_response_promise<bool>();
  finish_move(self);
  return st.moved;
}

void passivate_if_idle(room_self self, uint64_t epoch) {
  auto& st = self->state;
  if (epoch != st.idle_epoch || !st.members.empty() || st.in_flight || !st.pending.empty())
    return;
  // While the directory decides, nothing else is handled; joins that were
  // already on their way are bounced by CAF once the room has quit, and
  // their senders resolve the room again.
  self->request(st.directory, caf::infinite, msg::passivate_room_atom::value, st.room)
    .await([=](bool ok) {
      if (ok) {
        runtime::log_context cid{"room:" + self->state.room};
        spdlog::debug("room '{}': passivated", self->state.room);
        self->quit();
      }
    });
}

msg::room_actor::behavior_type room_actor(room_self self, std::string room, std::string node_id,
                                          msg::store_actor store,
                                          msg::directory_actor directory,
                                          std::chrono::milliseconds idle,
                                          std::shared_ptr<node_metrics> metrics) {
  auto& st = self->state;
  st.metrics = std::move(metrics);
  st.room = std::move(room);
  st.node_id = std::move(node_id);
  st.store = std::move(store);
  st.directory = std::move(directory);
  st.idle = idle;
  activate(self);
  self->set_down_handler([=](caf::down_msg& dm) {
    remove_relay(self, dm.source);
  });
  arm_idle_timer(self);
  return {
    [=](msg::room_join& x) {
      return join(self, x);
    },
    [=](msg::room_leave& x) {
      remove_member(self, x.conn.address());
    },
    [=](msg::room_fetch& x) {
      return fetch(self, x);
    },
    [=](msg::trim_atom, uint64_t seq) {
      auto& st = self->state;
      st.meta.trimmed = std::max(st.meta.trimmed, seq);
    },
    [=](msg::room_post& x) {
      if (auto& m = self->state.metrics)
        m->note_mailbox(node_metrics::actor_kind::room, mailbox_backlog(self));
      return post(self, x);
    },
    [=](msg::room_typing& x) {
      typing(self, x);
    },
    [=](msg::room_read& x) {
      return read(self, x);
    },
    [=](msg::room_signal& x) {
      return signal(self, x);
    },
    [=](msg::moving_atom) {
      return start_move(self);
    },
    [=](msg::read_history& x) -> caf::result<frame> {
      return read_history_from(self, self->state.store, x, self->state.meta.seq);
    },
    [=](msg::members_atom) -> std::vector<std::string> {
      std::vector<std::string> users;
      for (auto& [u, n] : self->state.roster.users())
        users.push_back(u);
      return users;
    },
    [=](msg::roster_atom) {
      auto& st = self->state;
      if (auto f = st.roster.flush(st.room))
        broadcast(self, *f, false);
    },
    [=](msg::idle_atom, uint64_t epoch) {
      passivate_if_idle(self, epoch);
    },
    [=](msg::inspect_atom) {
      return inspect(self);
    },
    [=](msg::inspect_atom, msg::summary_atom) {
      auto& st = self->state;
      return msg::room_summary{st.room, st.node_id, st.meta.seq,
                               static_cast<uint32_t>(st.members.size()), mailbox_backlog(self)};
    },
  };
}

} // namespace

} // namespace room

msg::room_actor spawn_room(caf::local_actor* parent, std::string room, std::string node_id,
                           msg::store_actor store, msg::directory_actor directory,
                           std::chrono::milliseconds idle,
                           std::shared_ptr<node_metrics> metrics) {
  return parent->spawn(room::room_actor, std::move(room), std::move(node_id), std::move(store),
                       std::move(directory), idle, std::move(metrics));
}

} // namespace chat::actors
