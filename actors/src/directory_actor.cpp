#include "directory_actor.hpp"

#include <algorithm>
#include <functional>
#include <set>
#include <unordered_map>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/runtime/hash_ring.hpp"
#include "handover.hpp"
#include "history_read.hpp"
#include "relay_actor.hpp"
#include "room_actor.hpp"
#include "room_export.hpp"
#include "store_messages.hpp"

namespace chat::actors {

namespace {

using actor_map = std::unordered_map<std::string, caf::actor>;

struct directory_state {
  actor_map rooms; ///< room actors of the rooms whose home is this node
  /// Presence shards (spawned on first use) of the users homed here.
  std::vector<caf::actor> presence;
  actor_map relays; ///< this node's relays (rooms with members here)
  std::string node_id;
  /// Homes of rooms and users. Empty (everything is local) until the node is
  /// in a cluster.
  runtime::hash_ring ring;
  msg::cluster_view view; ///< the last view (told to presence shards spawned later)
  std::unordered_map<std::string, caf::actor> peers; ///< node id -> its directory
  /// Nodes that said they are leaving: out of the ring and the peers already.
  std::set<std::string> leaving_nodes;
  /// The node is leaving the cluster: it hosts no room or user any more.
  bool leaving = false;
  /// The node is joining a cluster: requests it would answer as home wait in
  /// `held` (each sends its request here again) until its view is complete.
  bool joining = false;
  std::vector<std::function<void()>> held;
  static inline const char* name = "directory";
};

using directory_self = caf::stateful_actor<directory_state>;

/// A store call that takes longer is answered with an error (the store is stuck).
constexpr auto store_timeout = std::chrono::seconds(10);
/// How long a pull or a prepare waits for the room active here to stop. Not
/// longer: the asking home gives up after 3 s. Answering earlier is safe: the
/// promise fences whatever the old room still writes (ADR 8).
constexpr auto moving_timeout = std::chrono::seconds(2);

bool erase_by_address(actor_map& xs, const caf::actor_addr& addr) {
  for (auto i = xs.begin(); i != xs.end(); ++i)
    if (i->second.address() == addr) {
      xs.erase(i);
      return true;
    }
  return false;
}

// Finds or activates the actor of `name` in `xs`.
template <class Spawn>
caf::actor resolve(directory_self* self, actor_map& xs, std::string name, Spawn spawn) {
  if (auto i = xs.find(name); i != xs.end())
    return i->second;
  auto a = spawn(name);
  self->monitor(a);
  xs.emplace(std::move(name), a);
  return a;
}

bool forget(directory_self* self, actor_map& xs, const std::string& name);
void move_away(directory_self* self, const runtime::hash_ring& before, uint32_t replication);

// The room's actor active here (if any) is forgotten and stops after its commit
// in flight; then `next` runs (at once when none is active), and nothing more
// is appended to the room's log here until it is activated again.
void when_room_stopped(directory_self* self, const std::string& name,
                       std::function<void()> next) {
  auto& rooms = self->state.rooms;
  auto i = rooms.find(name);
  if (i == rooms.end())
    return next();
  auto room = i->second;
  self->demonitor(room);
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

// The ring and the peers from the last view, without the nodes that are leaving.
void apply_view(directory_self* self, uint32_t replication) {
  auto& st = self->state;
  std::vector<std::string> nodes;
  st.peers.clear();
  for (size_t i = 0; i < st.view.nodes.size() && i < st.view.directories.size(); ++i) {
    auto& id = st.view.nodes[i];
    if (st.leaving_nodes.count(id) != 0)
      continue;
    nodes.push_back(id);
    if (id != st.node_id)
      st.peers.emplace(id, st.view.directories[i]);
  }
  auto before = std::move(st.ring);
  st.ring = runtime::hash_ring{nodes};
  move_away(self, before, replication);
}
void stop_presence(directory_self* self);

// How many members (this one included) a node must reach to take a room over:
// a majority, and enough that its prepare meets every possible replica set of
// R nodes (Flexible Paxos: a phase-1 quorum of N - R + 1 intersects every
// phase-2 quorum of R among N). A majority alone does not: two views can each
// hold one (asymmetric reachability) while the room's R nodes are all outside
// one of them (ADR 8; cluster_test, five nodes).
size_t prepare_quorum(size_t members, size_t replication) {
  return std::max(members / 2 + 1, members - replication + 1);
}

// The directory of the home node of `key` when that is another node, else
// nothing (answer here). Requests already forwarded once are answered here.
caf::actor remote_home(directory_self* self, const std::string& key, uint8_t hops) {
  auto& st = self->state;
  if (hops > 0 || st.ring.empty())
    return nullptr;
  auto& owner = st.ring.owner(key);
  if (owner == st.node_id)
    return nullptr;
  auto i = st.peers.find(owner);
  return i == st.peers.end() ? nullptr : i->second;
}

caf::error leaving(directory_self* self) {
  return caf::make_error(errc::room_unavailable,
                         "node '" + self->state.node_id + "' is leaving the cluster");
}

// While the node joins, the current request waits (see joining_atom); true
// when it was held.
template <class Request>
bool hold(directory_self* self, Request& x) {
  auto& st = self->state;
  if (!st.joining)
    return false;
  auto rp = self->make_response_promise();
  auto me = caf::actor_cast<caf::actor>(self);
  st.held.push_back([me, rp, x]() mutable {
    rp.delegate(me, std::move(x));
  });
  return true;
}

// Forwards the current request to `home` (which answers the requester directly).
template <class Request>
void forward(directory_self* self, const caf::actor& home, Request x) {
  x.hops = 1;
  self->delegate(home, std::move(x));
}

caf::behavior directory_actor(directory_self* self, directory_options opts, caf::actor store) {
  self->state.presence.resize(std::max<size_t>(opts.presence.shards, 1));
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    if (erase_by_address(st.rooms, dm.source) || erase_by_address(st.relays, dm.source))
      return;
    for (auto& shard : st.presence)
      if (shard.address() == dm.source)
        shard = nullptr;
  });
  auto me = caf::actor_cast<caf::actor>(self);
  self->state.node_id = opts.node_id;
  // The actor of a room homed here, activated if need be.
  auto activate_room = [=](std::string name) {
    return resolve(self, self->state.rooms, std::move(name), [&](const std::string& n) {
      return spawn_room(self, n, opts.node_id, store, me, opts.room_idle, opts.metrics);
    });
  };
  return {
    [=](msg::resolve_room& x) -> caf::result<caf::actor> {
      if (auto home = remote_home(self, runtime::hash_ring::room_key(x.room), x.hops)) {
        forward(self, home, std::move(x));
        return caf::delegated<caf::actor>{};
      }
      if (hold(self, x))
        return caf::delegated<caf::actor>{};
      if (self->state.leaving)
        return leaving(self);
      return activate_room(std::move(x.room));
    },
    [=](msg::resolve_user& x) -> caf::result<caf::actor> {
      if (auto home = remote_home(self, runtime::hash_ring::user_key(x.user), x.hops)) {
        forward(self, home, std::move(x));
        return caf::delegated<caf::actor>{};
      }
      if (hold(self, x))
        return caf::delegated<caf::actor>{};
      if (self->state.leaving)
        return leaving(self);
      auto& shard = self->state.presence[presence_shard_of(x.user, opts.presence.shards)];
      if (!shard) {
        shard = spawn_presence_shard(self, opts.node_id, store, opts.presence, opts.metrics);
        self->monitor(shard);
        if (!self->state.ring.empty())
          self->send(shard, self->state.view);
      }
      return shard;
    },
    [=](msg::cluster_view& x) {
      auto& st = self->state;
      // A leaving node that is gone from the view may come back one day.
      for (auto i = st.leaving_nodes.begin(); i != st.leaving_nodes.end();)
        i = std::find(x.nodes.begin(), x.nodes.end(), *i) == x.nodes.end()
              ? st.leaving_nodes.erase(i)
              : std::next(i);
      for (auto& shard : st.presence)
        if (shard)
          self->send(shard, x);
      st.view = std::move(x);
      auto& m = *opts.metrics;
      m.view_changes.fetch_add(1, std::memory_order_relaxed);
      m.nodes_up.store(st.view.nodes.size(), std::memory_order_relaxed);
      m.members.store(std::max<size_t>(st.view.members, st.view.nodes.size()),
                      std::memory_order_relaxed);
      apply_view(self, opts.replication);
    },
    [=](msg::node_leaving_atom, const std::string& node) {
      self->state.leaving_nodes.insert(node);
      apply_view(self, opts.replication);
      return true;
    },
    [=](msg::joining_atom, bool joining) {
      auto& st = self->state;
      st.joining = joining;
      if (joining)
        return;
      auto held = std::move(st.held);
      st.held.clear();
      for (auto& f : held)
        f();
    },
    [=](msg::peers_atom) {
      std::vector<caf::actor> out;
      for (auto& [id, dir] : self->state.peers)
        out.push_back(dir);
      return out;
    },
    // Not a delegation: the store (a detached actor) must never answer another
    // node itself. A remote node that learns a detached actor's handle keeps it
    // referenced, and the actor system then waits for it forever at shutdown.
    [=](msg::room_pull& x) -> caf::result<msg::room_import> {
      auto rp = self->make_response_promise<msg::room_import>();
      auto reply = [=]() mutable {
        export_part(
          self, store, x.room, x.after,
          [=](msg::room_import& part, uint64_t, bool) mutable {
            rp.deliver(std::move(part));
          },
          [=](caf::error& err) mutable {
            rp.deliver(err);
          });
      };
      // A room active here stops (after its commit) before its log is read.
      when_room_stopped(self, x.room, reply);
      return rp;
    },
    // ADR 8. A room still active here has a newer home: it stops after its
    // commit in flight, then the store gives the promise.
    [=](msg::room_prepare& x) -> caf::result<msg::room_promise> {
      auto rp = self->make_response_promise<msg::room_promise>();
      when_room_stopped(self, x.room, [=]() mutable {
        self->request(store, store_timeout, x)
          .then(
            [=](msg::room_promise& p) mutable {
              rp.deliver(std::move(p));
            },
            [=](caf::error& err) mutable {
              rp.deliver(err);
            });
      });
      return rp;
    },
    // A new home synced its whole log here: the log is now its ballot's.
    [=](msg::accept_atom a, msg::room_prepare& x) -> caf::result<msg::room_promise> {
      auto rp = self->make_response_promise<msg::room_promise>();
      self->request(store, store_timeout, a, std::move(x))
        .then(
          [=](msg::room_promise& p) mutable {
            rp.deliver(std::move(p));
          },
          [=](caf::error& err) mutable {
            rp.deliver(err);
          });
      return rp;
    },
    [=](msg::room_replicate& x) -> caf::result<uint64_t> {
      auto rp = self->make_response_promise<uint64_t>();
      self->request(store, store_timeout, std::move(x))
        .then(
          [=](uint64_t seq) mutable {
            rp.deliver(seq);
          },
          [=](caf::error& err) mutable {
            rp.deliver(err);
          });
      return rp;
    },
    [=](msg::replicas_atom, const std::string& room) -> caf::result<std::vector<caf::actor>> {
      auto& st = self->state;
      std::vector<caf::actor> out;
      if (st.ring.empty())
        return out;
      auto owners = st.ring.owners(runtime::hash_ring::room_key(room), opts.replication);
      // Members that are down still count: a node that lost its peers (or was
      // paused past the failure timeout) must not write alone.
      auto members = std::max<size_t>(st.view.members, st.view.nodes.size());
      auto needed = std::min<size_t>(opts.replication, members);
      if (auto quorum = prepare_quorum(members, needed); st.view.nodes.size() < quorum)
        return caf::make_error(errc::room_unavailable,
                               "this node reaches " + std::to_string(st.view.nodes.size())
                                 + " of " + std::to_string(members) + " cluster members; "
                                 + std::to_string(quorum) + " are needed to write");
      if (owners.size() < needed)
        return caf::make_error(errc::room_unavailable, "room '" + room
                                                         + "': " + std::to_string(owners.size())
                                                         + " of the " + std::to_string(needed)
                                                         + " nodes that keep it are up");
      for (auto& id : owners)
        if (auto i = st.peers.find(id); i != st.peers.end())
          out.push_back(i->second);
      return out;
    },
    [=](msg::resolve_relay& x) -> caf::actor {
      return resolve(self, self->state.relays, std::move(x.room), [&](const std::string& n) {
        return spawn_relay(self, n, me);
      });
    },
    [=](msg::read_history& x) -> caf::result<frame> {
      if (auto home = remote_home(self, runtime::hash_ring::room_key(x.room), x.hops)) {
        forward(self, home, std::move(x));
        return caf::delegated<frame>{};
      }
      if (hold(self, x))
        return caf::delegated<frame>{};
      if (self->state.leaving)
        return leaving(self);
      // A single node pulls nothing when a room activates: the history of a
      // room that is not active comes from the store, without starting it.
      if (self->state.ring.empty() && self->state.rooms.count(x.room) == 0)
        return read_history_from(self, store, x);
      // Through the room's actor: when it activates here it first pulls what
      // other nodes have of its log, and the history must include that.
      auto room = activate_room(x.room);
      self->delegate(room, std::move(x));
      return caf::delegated<frame>{};
    },
    [=](msg::find_room& x) -> caf::result<caf::actor> {
      if (auto home = remote_home(self, runtime::hash_ring::room_key(x.room), x.hops)) {
        forward(self, home, std::move(x));
        return caf::delegated<caf::actor>{};
      }
      if (hold(self, x))
        return caf::delegated<caf::actor>{};
      auto& rooms = self->state.rooms;
      auto i = rooms.find(x.room);
      return i != rooms.end() ? i->second : caf::actor{};
    },
    [=](msg::trim_atom a, const std::string& room, uint64_t seq) {
      auto& rooms = self->state.rooms;
      if (auto i = rooms.find(room); i != rooms.end())
        self->send(i->second, a, seq);
    },
    [=](msg::passivate_room_atom, const std::string& room) -> bool {
      return forget(self, self->state.rooms, room);
    },
    [=](msg::passivate_relay_atom, const std::string& room) -> bool {
      return forget(self, self->state.relays, room);
    },
    [=](msg::handover_atom) {
      auto& st = self->state;
      st.leaving = true;
      // No room or presence may run here while its log moves: relays and
      // connections find them again on the new home once this node has left.
      for (auto& [name, a] : st.rooms) {
        self->demonitor(a);
        self->send_exit(a, caf::exit_reason::user_shutdown);
      }
      st.rooms.clear();
      stop_presence(self);
      std::vector<std::string> others;
      for (auto& [id, dir] : st.peers)
        others.push_back(id);
      auto worker =
        spawn_handover(self, store, st.node_id, runtime::hash_ring{others}, st.peers);
      self->delegate(worker, msg::handover_atom::value);
    },
    [=](msg::shutdown_atom) -> bool {
      auto& st = self->state;
      st.held.clear(); // they hold a handle to this actor
      for (auto* xs : {&st.relays, &st.rooms}) {
        for (auto& [name, a] : *xs)
          self->send_exit(a, caf::exit_reason::user_shutdown);
        xs->clear();
      }
      stop_presence(self);
      return true;
    },
  };
}

// After a view change: rooms whose home is now another node stop here (after
// their commit in flight); their relays join them on the new home, which takes
// the log over when it activates. Rooms whose replica set changed stop too
// (ADR 8): the next request activates them again and the take-over writes their
// log onto the new set (a room activated while its node was alone has no copy
// at all until then). Presence shards move their users themselves.
void move_away(directory_self* self, const runtime::hash_ring& before, uint32_t replication) {
  auto& st = self->state;
  if (st.ring.empty())
    return;
  std::vector<std::string> leaving;
  for (auto i = st.rooms.begin(); i != st.rooms.end();) {
    auto key = runtime::hash_ring::room_key(i->first);
    auto now = st.ring.owners(key, replication);
    auto then =
      before.empty() ? std::vector<std::string>{st.node_id} : before.owners(key, replication);
    if (now.front() == st.node_id && now == then) {
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
void stop_presence(directory_self* self) {
  for (auto& shard : self->state.presence) {
    if (!shard)
      continue;
    self->demonitor(shard);
    self->send_exit(shard, caf::exit_reason::user_shutdown);
    shard = nullptr;
  }
}

// The actor asking to stop is still the one registered under `name`: forget
// it, and from now on the name activates a fresh one.
bool forget(directory_self* self, actor_map& xs, const std::string& name) {
  auto i = xs.find(name);
  if (i == xs.end()
      || caf::actor_cast<caf::strong_actor_ptr>(i->second) != self->current_sender())
    return false;
  self->demonitor(i->second);
  xs.erase(i);
  return true;
}

} // namespace

caf::actor spawn_directory(caf::actor_system& sys, directory_options opts, caf::actor store) {
  return sys.spawn(directory_actor, std::move(opts), std::move(store));
}

} // namespace chat::actors
