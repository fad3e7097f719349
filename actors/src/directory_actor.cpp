#include "directory_actor.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/runtime/hash_ring.hpp"
#include "directory_routing.hpp"
#include "directory_state.hpp"
#include "handover.hpp"
#include "history_read.hpp"
#include "relay_actor.hpp"
#include "room_actor.hpp"
#include "room_export.hpp"

namespace chat::actors {

namespace directory {

namespace {

template <class Handle>
bool erase_by_address(actor_map<Handle>& xs, const caf::actor_addr& addr) {
  for (auto i = xs.begin(); i != xs.end(); ++i)
    if (i->second.address() == addr) {
      xs.erase(i);
      return true;
    }
  return false;
}

// Finds or activates the actor of `name` in `xs`.
template <class Handle, class Spawn>
Handle resolve(directory_self self, actor_map<Handle>& xs, std::string name, Spawn spawn) {
  if (auto i = xs.find(name); i != xs.end())
    return i->second;
  auto a = spawn(name);
  self->monitor(a);
  xs.emplace(std::move(name), a);
  return a;
}

template <class Handle>
bool forget(directory_self self, actor_map<Handle>& xs, const std::string& name);
void move_away(directory_self self, const runtime::hash_ring& before, uint32_t replication);

} // namespace

// The ring and the peers from the last view, without the nodes that are
// leaving or fenced for their removal.
void apply_view(directory_self self, uint32_t replication) {
  auto& st = self->state;
  std::vector<std::string> nodes;
  st.peers.clear();
  for (size_t i = 0; i < st.view.nodes.size() && i < st.view.directories.size(); ++i) {
    auto& id = st.view.nodes[i];
    if (st.leaving_nodes.count(id) != 0 || is_fenced(self, id))
      continue;
    nodes.push_back(id);
    if (id != st.node_id)
      st.peers.emplace(id, caf::actor_cast<msg::directory_actor>(st.view.directories[i]));
  }
  auto before = std::move(st.ring);
  st.ring = runtime::hash_ring{nodes};
  move_away(self, before, replication);
  // A repair that counts on a node no longer up stops: each room homed there
  // would wait out a take-over's timeout (15 s). Whoever asked tries again
  // (the copies ledger once the node is back, ADR 8).
  if (st.repairing
      && std::any_of(st.repair_peers.begin(), st.repair_peers.end(),
                     [&](const std::string& id) {
                       return st.peers.count(id) == 0;
                     })) {
    caf::anon_send(st.repairing, msg::shutdown_atom::value);
    st.repair_peers.clear();
  }
}

namespace {

void stop_presence(directory_self self);

// The actor of a room homed here, activated if need be.
msg::room_actor activate_room(directory_self self, const directory_options& opts,
                              const msg::store_actor& store, std::string name) {
  return resolve(self, self->state.rooms, std::move(name), [&](const std::string& n) {
    return spawn_room(self, n, opts.node_id, store, caf::actor_cast<msg::directory_actor>(self),
                      opts.room_idle, opts.metrics);
  });
}

caf::result<msg::room_actor> room_of(directory_self self, const directory_options& opts,
                                     const msg::store_actor& store, msg::resolve_room& x) {
  if (auto answer = not_here<msg::room_actor>(self, runtime::hash_ring::room_key(x.room), x))
    return std::move(*answer);
  return activate_room(self, opts, store, std::move(x.room));
}

caf::result<msg::presence_shard_actor> shard_of(directory_self self,
                                                const directory_options& opts,
                                                const msg::store_actor& store,
                                                msg::resolve_user& x) {
  if (auto answer =
        not_here<msg::presence_shard_actor>(self, runtime::hash_ring::user_key(x.user), x))
    return std::move(*answer);
  auto& shard = self->state.presence[presence_shard_of(x.user, opts.presence.shards)];
  if (!shard) {
    shard = spawn_presence_shard(self, opts.node_id, store, opts.presence, opts.metrics);
    self->monitor(shard);
    if (!self->state.ring.empty())
      self->send(shard, self->state.view);
  }
  return shard;
}

caf::result<frame> history(directory_self self, const directory_options& opts,
                           const msg::store_actor& store, msg::read_history& x) {
  if (auto answer = not_here<frame>(self, runtime::hash_ring::room_key(x.room), x))
    return std::move(*answer);
  // A single node pulls nothing when a room activates: the history of a
  // room that is not active comes from the store, without starting it.
  if (self->state.ring.empty() && self->state.rooms.count(x.room) == 0)
    return read_history_from(self, store, x);
  // Through the room's actor: when it activates here it first pulls what
  // other nodes have of its log, and the history must include that.
  auto room = activate_room(self, opts, store, x.room);
  self->delegate(room, std::move(x));
  return caf::delegated<frame>{};
}

// The room's actor if it is active on its home (no activation; also while leaving).
caf::result<msg::room_actor> active_room(directory_self self, msg::find_room& x) {
  if (route_of(self, runtime::hash_ring::room_key(x.room), x) == route::elsewhere)
    return caf::delegated<msg::room_actor>{};
  auto& rooms = self->state.rooms;
  auto i = rooms.find(x.room);
  return i != rooms.end() ? i->second : msg::room_actor{};
}

void on_view(directory_self self, const directory_options& opts, msg::cluster_view& x) {
  auto& st = self->state;
  // A leaving node that is gone from the view may come back one day.
  for (auto i = st.leaving_nodes.begin(); i != st.leaving_nodes.end();)
    i = std::find(x.nodes.begin(), x.nodes.end(), *i) == x.nodes.end()
          ? st.leaving_nodes.erase(i)
          : std::next(i);
  for (auto& shard : st.presence)
    if (shard)
      self->send(shard, x);
  if (opts.inspector)
    caf::anon_send(opts.inspector, x);
  st.view = std::move(x);
  auto& m = *opts.metrics;
  m.view_changes.fetch_add(1, std::memory_order_relaxed);
  m.nodes_up.store(st.view.nodes.size(), std::memory_order_relaxed);
  m.members.store(std::max<size_t>(st.view.members, st.view.nodes.size()),
                  std::memory_order_relaxed);
  m.member_set.store(st.view.epoch, std::memory_order_relaxed);
  m.short_copies.store(st.view.copies, std::memory_order_relaxed);
  apply_view(self, opts.replication);
}

void on_joining(directory_self self, bool joining) {
  auto& st = self->state;
  st.joining = joining;
  if (joining)
    return;
  auto held = std::move(st.held);
  st.held.clear();
  for (auto& f : held)
    f();
}

// This node leaves the cluster: its rooms and users stop here, and a worker
// ships each stored room's log to its next home (it answers the request).
caf::delegated<bool> hand_over(directory_self self, const msg::store_actor& store) {
  auto& st = self->state;
  st.leaving = true;
  // No room or presence may run here while its log moves: relays and
  // connections find them again on the new home once this node has left.
  for (auto& [name, a] : st.rooms) {
    self->demonitor(a.address());
    self->send_exit(a, caf::exit_reason::user_shutdown);
  }
  st.rooms.clear();
  stop_presence(self);
  std::vector<std::string> others;
  for (auto& [id, dir] : st.peers)
    others.push_back(id);
  auto worker = spawn_handover(self, store, st.node_id, runtime::hash_ring{others}, st.peers);
  self->delegate(worker, msg::handover_atom::value);
  return {};
}

bool shut_down(directory_self self) {
  auto& st = self->state;
  if (st.repairing) // a node stopping does not wait for a sweep of its rooms
    self->send_exit(st.repairing, caf::exit_reason::user_shutdown);
  st.held.clear(); // they hold a handle to this actor
  auto stop_all = [&](auto& xs) {
    for (auto& [name, a] : xs)
      self->send_exit(a, caf::exit_reason::user_shutdown);
    xs.clear();
  };
  stop_all(st.relays);
  stop_all(st.rooms);
  stop_presence(self);
  return true;
}

// This node's relay of a room, spawned on first use.
msg::relay_actor relay_of(directory_self self, const directory_options& opts,
                          std::string room) {
  return resolve(self, self->state.relays, std::move(room), [&](const std::string& n) {
    return spawn_relay(self, n, caf::actor_cast<msg::directory_actor>(self), opts.node_id,
                       opts.metrics);
  });
}

// Retention removed `room`'s messages up to `seq` (the store says): its actor,
// if active, must not replay them from memory.
void tell_trimmed(directory_self self, const std::string& room, uint64_t seq) {
  auto& rooms = self->state.rooms;
  if (auto i = rooms.find(room); i != rooms.end())
    self->send(i->second, msg::trim_atom::value, seq);
}

msg::directory_actor::behavior_type directory_actor(directory_self self, directory_options opts,
                                                    msg::store_actor store) {
  self->state.presence.resize(std::max<size_t>(opts.presence.shards, 1));
  self->state.node_id = opts.node_id;
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (erase_by_address(st.rooms, dm.source) || erase_by_address(st.relays, dm.source))
      return;
    if (st.repairing && dm.source == st.repairing.address()) {
      st.repairing = nullptr;
      return;
    }
    for (auto& shard : st.presence)
      if (shard.address() == dm.source)
        shard = nullptr;
  });
  return {
    [=](msg::resolve_room& x) {
      return room_of(self, opts, store, x);
    },
    [=](msg::resolve_user& x) {
      return shard_of(self, opts, store, x);
    },
    [=](msg::read_history& x) {
      return history(self, opts, store, x);
    },
    [=](msg::find_room& x) {
      return active_room(self, x);
    },
    [=](msg::inspect_room& x) {
      return inspect(self, opts, store, x);
    },
    [=](msg::stop_room& x) {
      return stop(self, store, x);
    },
    [=](msg::list_rooms& x) {
      return list(self, x);
    },
    [=](msg::summary_atom) {
      return summary(self, opts);
    },
    [=](msg::nodes_atom) {
      return list_nodes(self, opts);
    },
    [=](msg::http_atom, std::string& url) {
      self->state.http = std::move(url);
    },
    [=](msg::actors_atom) {
      return kept_actors(self, opts);
    },
    [=](msg::resolve_relay& x) {
      return relay_of(self, opts, std::move(x.room));
    },
    [=](msg::cluster_view& x) {
      on_view(self, opts, x);
    },
    [=](msg::node_leaving_atom, const std::string& node) {
      self->state.leaving_nodes.insert(node);
      apply_view(self, opts.replication);
      return true;
    },
    [=](msg::joining_atom, bool joining) {
      on_joining(self, joining);
    },
    [=](msg::room_pull& x) {
      return pull(self, store, x);
    },
    [=](msg::room_prepare& x) {
      return prepare(self, store, x);
    },
    [=](msg::accept_atom, msg::room_prepare& x) {
      return accept(self, store, x);
    },
    [=](msg::room_replicate& x) {
      return replicate(self, store, x);
    },
    [=](msg::replicas_atom, const std::string& room) {
      return replicas(self, opts.replication, room);
    },
    [=](msg::trim_atom, const std::string& room, uint64_t seq) {
      tell_trimmed(self, room, seq);
    },
    [=](msg::passivate_room_atom, const std::string& room) -> bool {
      return forget(self, self->state.rooms, room);
    },
    [=](msg::passivate_relay_atom, const std::string& room) -> bool {
      return forget(self, self->state.relays, room);
    },
    [=](msg::handover_atom) {
      return hand_over(self, store);
    },
    [=](msg::repair_atom) {
      return repair(self, store);
    },
    [=](msg::repair_atom, msg::nodes_atom) {
      return repair_everywhere(self);
    },
    [=](msg::repair_atom, const std::string& gone) {
      return repair_without(self, store, opts.replication, gone);
    },
    [=](msg::gone_atom, const std::string& id) {
      return fence(self, opts.replication, id);
    },
    [=](msg::gone_atom, const std::string& id, bool) {
      lift_fence(self, opts.replication, id);
      return true;
    },
    [=](msg::remove_atom, std::string& id) {
      return remove_member(self, opts, std::move(id));
    },
    [=](msg::shutdown_atom) {
      return shut_down(self);
    },
  };
}

// After a view change: rooms whose home is now another node stop here (after
// their commit in flight); their relays join them on the new home, which takes
// the log over when it activates. Rooms whose replica set changed stop too
// (ADR 8): the next request activates them again and the take-over writes their
// log onto the new set (a room activated while its node was alone has no copy
// at all until then). So do rooms with fewer nodes up than the members ask
// (a member counted, not up): their replica set no longer meets a take-over's
// quorum, and the next activation waits for enough of them (a review found a
// room that kept acking on one copy after the cluster grew, while the joiner
// was briefly down here). Presence shards move their users themselves.
void move_away(directory_self self, const runtime::hash_ring& before, uint32_t replication) {
  auto& st = self->state;
  if (st.ring.empty())
    return;
  auto members = std::max<size_t>(st.view.members, st.view.nodes.size());
  auto needed = std::min<size_t>(replication, members);
  std::vector<std::string> leaving;
  for (auto i = st.rooms.begin(); i != st.rooms.end();) {
    auto key = runtime::hash_ring::room_key(i->first);
    auto now = st.ring.owners(key, replication);
    auto then =
      before.empty() ? std::vector<std::string>{st.node_id} : before.owners(key, replication);
    if (now.front() == st.node_id && now == then && now.size() >= needed) {
      ++i;
      continue;
    }
    leaving.push_back(i->first);
    ++i;
  }
  for (auto& name : leaving)
    when_room_stopped(self, name, [] {});
}

// The presence shards stop; connections that registered with them (here or on
// other nodes) notice and register again with the user's home.
void stop_presence(directory_self self) {
  for (auto& shard : self->state.presence) {
    if (!shard)
      continue;
    self->demonitor(shard.address());
    self->send_exit(shard, caf::exit_reason::user_shutdown);
    shard = nullptr;
  }
}

// The actor asking to stop is still the one registered under `name`: forget
// it, and from now on the name activates a fresh one.
template <class Handle>
bool forget(directory_self self, actor_map<Handle>& xs, const std::string& name) {
  auto i = xs.find(name);
  if (i == xs.end()
      || caf::actor_cast<caf::strong_actor_ptr>(i->second) != self->current_sender())
    return false;
  self->demonitor(i->second.address());
  xs.erase(i);
  return true;
}

} // namespace

void when_room_stopped(directory_self self, const std::string& name,
                       std::function<void()> next) {
  auto& rooms = self->state.rooms;
  auto i = rooms.find(name);
  if (i == rooms.end())
    return next();
  auto room = i->second;
  self->demonitor(room.address());
  rooms.erase(i);
  self->request(room, moving_timeout, msg::moving_atom::value)
    .then(
      [=](bool) {
        next();
      },
      [=](caf::error&) {
        next();
      });
}

} // namespace directory

msg::directory_actor spawn_directory(caf::actor_system& sys, directory_options opts,
                                     msg::store_actor store) {
  return sys.spawn(directory::directory_actor, std::move(opts), std::move(store));
}

} // namespace chat::actors
