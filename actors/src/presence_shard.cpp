#include "presence_shard.hpp"

#include <algorithm>
#include <functional>
#include <unordered_map>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/actors/mailbox.hpp"
#include "chat/actors/timeouts.hpp"
#include "chat/runtime/clock.hpp"
#include "chat/runtime/hash_ring.hpp"
#include "store_messages.hpp"

namespace chat::actors {

namespace {

/// One user's presence; every byte here is paid per online user. A user has a
/// few devices (a vector) and usually no watchers, but a popular one may have
/// very many: a hash map, created on the first watch.
struct user_presence {
  explicit user_presence(presence_tracker::config cfg) : tracker(cfg) {}

  presence_tracker tracker;
  /// Connections and their device numbers in the tracker.
  std::vector<std::pair<caf::actor, uint64_t>> devices;
  std::unique_ptr<std::unordered_map<caf::actor_addr, caf::actor>> watchers;
  /// Watch (true) or query (false) replies held until last-seen is loaded.
  std::vector<std::pair<caf::typed_response_promise<msg::presence_info>, bool>> waiting;
  uint64_t next_device = 0;
  /// Since when the user is offline, unwatched and idle (0 = it is not).
  int64_t idle_since = 0;
  bool loaded = false; ///< the stored last-seen time arrived
};

/// A connection this shard monitors: a watcher of some of its users, and/or a
/// device on another node. Its down message then touches only these users,
/// not the whole shard (a watcher of 1,000 users closing used to scan every
/// user of the shard once per user it watched).
struct monitored_conn {
  std::vector<std::string> watching; ///< users of this shard it watches
  std::string device_of;             ///< the user it is a remote device of ("" if none)
};

struct shard_state {
  std::string node_id;
  msg::store_actor store;
  presence_options opts;
  std::shared_ptr<node_metrics> metrics; ///< presence_users counts `users`
  runtime::hash_ring ring;               ///< empty until the node is in a cluster
  /// The view's nodes by their CAF node (a device's node in the admin API).
  std::vector<std::pair<caf::node_id, std::string>> node_names;
  std::unordered_map<std::string, user_presence> users;
  std::unordered_map<caf::actor_addr, monitored_conn> monitored;
  bool sweeping = false; ///< an expire_atom is scheduled
  static inline const char* name = "presence";

  shard_state() = default;
  shard_state(const shard_state&) = delete;
  shard_state& operator=(const shard_state&) = delete;
  ~shard_state() { // the gauge counts the users of live shards only
    if (metrics)
      metrics->presence_users.fetch_sub(users.size(), std::memory_order_relaxed);
  }
};

using shard_self = msg::presence_shard_actor::stateful_pointer<shard_state>;

bool watched(const user_presence& p) {
  return p.watchers && !p.watchers->empty();
}

bool erase_watcher(user_presence& p, const caf::actor_addr& addr) {
  if (!p.watchers || p.watchers->erase(addr) == 0)
    return false;
  if (p.watchers->empty())
    p.watchers.reset();
  return true;
}

// The entry of `conn` in the monitor index, monitoring it on first use.
monitored_conn& monitor_entry(shard_self self, const caf::actor& conn) {
  auto [i, added] = self->state.monitored.try_emplace(conn.address());
  if (added)
    self->monitor(conn);
  return i->second;
}

// Drops `conn`'s index entry (and its monitor) once it stands for nothing.
void release_entry(shard_self self, const caf::actor_addr& conn) {
  auto i = self->state.monitored.find(conn);
  if (i == self->state.monitored.end() || !i->second.watching.empty()
      || !i->second.device_of.empty())
    return;
  self->demonitor(conn);
  self->state.monitored.erase(i);
}

void unindex_watch(shard_self self, const caf::actor_addr& conn, const std::string& user) {
  auto i = self->state.monitored.find(conn);
  if (i == self->state.monitored.end())
    return;
  auto& w = i->second.watching;
  if (auto j = std::find(w.begin(), w.end(), user); j != w.end()) {
    *j = std::move(w.back());
    w.pop_back();
  }
  release_entry(self, conn);
}

void unindex_device(shard_self self, const caf::actor_addr& conn) {
  auto i = self->state.monitored.find(conn);
  if (i == self->state.monitored.end())
    return;
  i->second.device_of.clear();
  release_entry(self, conn);
}

// Silent devices are found by a sweep of the shard rather than a timer per
// user: the TTL is met within an eighth of it (at most a second late).
std::chrono::milliseconds sweep_interval(const presence_options& opts) {
  return std::chrono::milliseconds(std::clamp<int64_t>(opts.tracker.ttl_ms / 8, 20, 1000));
}

void arm_sweep(shard_self self) {
  auto& st = self->state;
  if (st.sweeping || st.users.empty())
    return;
  st.sweeping = true;
  self->delayed_send(self, sweep_interval(st.opts), msg::expire_atom::value);
}

msg::presence_info info_of(const std::string& user, const user_presence& p, bool published) {
  auto online = published ? p.tracker.published_online() : p.tracker.online();
  return {user, online, p.tracker.last_seen()};
}

void publish(shard_self self, const std::string& user, const user_presence& p) {
  if (!watched(p))
    return; // nobody to tell: the frame is not even built
  auto online = p.tracker.published_online();
  auto seen = p.tracker.last_seen();
  msg::presence_event ev{{user, online, seen}, presence_event(user, online, seen)};
  for (auto& [addr, w] : *p.watchers)
    self->anon_send(w, ev); // `send` is for typed receivers; a connection is not
}

// Called after every change of the user's device set.
void after_change(shard_self self, const std::string& user, user_presence& p, bool was_online,
                  int64_t now) {
  auto& st = self->state;
  if (was_online && !p.tracker.online()) // the user just went offline: remember when
    self->send(st.store, msg::store_last_seen{{user, p.tracker.last_seen()}});
  auto d = p.tracker.changed(now);
  if (d.what == presence_tracker::decision::publish_now)
    publish(self, user, p);
  else if (d.what == presence_tracker::decision::publish_at)
    self->delayed_send(self, std::chrono::milliseconds(std::max<int64_t>(d.at_ms - now, 1)),
                       msg::publish_atom::value, user);
}

void loaded(shard_self self, const std::string& user, int64_t seen) {
  auto i = self->state.users.find(user);
  if (i == self->state.users.end() || i->second.loaded)
    return;
  auto& p = i->second;
  p.tracker.seen(seen);
  p.loaded = true;
  for (auto& [rp, watch] : p.waiting)
    rp.deliver(info_of(user, p, watch));
  p.waiting.clear();
}

// The user's presence, created on first use (when the user is homed here);
// nullptr when the user's home is another node.
user_presence* presence_of(shard_self self, const std::string& user) {
  auto& st = self->state;
  if (auto i = st.users.find(user); i != st.users.end())
    return &i->second;
  if (!st.ring.empty() && st.ring.owner(runtime::hash_ring::user_key(user)) != st.node_id)
    return nullptr;
  auto& p = st.users.try_emplace(user, st.opts.tracker).first->second;
  st.metrics->presence_users.fetch_add(1, std::memory_order_relaxed);
  self->request(st.store, caf::infinite, msg::store_load_last_seen{user})
    .then(
      [=](int64_t seen) {
        loaded(self, user, seen);
      },
      // Presence works without the stored time; it is only history.
      [=](caf::error&) {
        loaded(self, user, 0);
      });
  arm_sweep(self);
  return &p;
}

// Only connections on other nodes are monitored as devices (their node may
// fail). A local connection always says presence_disconnect before it stops;
// monitoring it too made every close also deliver a down message, which the
// shard can only match by scanning all its users. A local connection that
// stopped without a word (a crash) is dropped once its TTL runs out.
bool monitors_device(shard_self self, const caf::actor& conn) {
  return conn.node() != self->node();
}

// Returns whether `conn` was one of the user's devices.
bool drop_device(shard_self self, const std::string& user, user_presence& p,
                 const caf::actor_addr& conn) {
  auto i = std::find_if(p.devices.begin(), p.devices.end(), [&](auto& d) {
    return d.first.address() == conn;
  });
  if (i == p.devices.end())
    return false;
  auto device = i->second;
  p.devices.erase(i);
  auto now = runtime::wall_ms();
  auto was_online = p.tracker.online();
  p.tracker.disconnect(device, now);
  after_change(self, user, p, was_online, now);
  return true;
}

using user_iterator = std::unordered_map<std::string, user_presence>::iterator;

// Erases the user and advances `i`.
void forget(shard_self self, user_iterator& i) {
  i = self->state.users.erase(i);
  self->state.metrics->presence_users.fetch_sub(1, std::memory_order_relaxed);
}

// A user nobody watches any more, with no device, is forgotten at once rather
// than after the idle time: otherwise a client replacing its watch list with
// fresh names over and over makes the shard hold every name it ever sent.
// (Its last-seen time is stored; a later watch loads it again.)
void forget_if_unused(shard_self self, const std::string& user) {
  auto i = self->state.users.find(user);
  if (i == self->state.users.end())
    return;
  auto& p = i->second;
  if (p.devices.empty() && !watched(p) && p.loaded && p.waiting.empty()
      && !p.tracker.publication_scheduled() && !p.tracker.online())
    forget(self, i);
}

// Expires silent devices and forgets users idle for long enough.
void sweep(shard_self self) {
  auto& st = self->state;
  st.sweeping = false;
  auto now = runtime::wall_ms();
  for (auto i = st.users.begin(); i != st.users.end();) {
    auto& [user, p] = *i;
    if (auto at = p.tracker.next_expiry(); at && *at <= now) {
      p.tracker.expire(now);
      // Expired devices are forgotten here too; one that heart-beats again
      // registers anew.
      auto gone = [&](auto& d) {
        if (p.tracker.has(d.second))
          return false;
        if (monitors_device(self, d.first))
          unindex_device(self, d.first.address());
        return true;
      };
      p.devices.erase(std::remove_if(p.devices.begin(), p.devices.end(), gone),
                      p.devices.end());
      if (!p.tracker.online())
        spdlog::debug("presence: '{}' timed out (no heartbeat for {} ms)", user,
                      st.opts.tracker.ttl_ms);
      after_change(self, user, p, true, now);
    }
    auto idle =
      p.devices.empty() && !watched(p) && p.loaded && !p.tracker.publication_scheduled();
    if (!idle) {
      p.idle_since = 0;
    } else if (p.idle_since == 0) {
      p.idle_since = now;
    } else if (now - p.idle_since >= st.opts.idle.count()) {
      forget(self, i);
      continue;
    }
    ++i;
  }
  arm_sweep(self);
}

// A view change: users whose home is now another node leave this shard; their
// connections and watchers register with the new home.
void move_away(shard_self self) {
  auto& st = self->state;
  for (auto i = st.users.begin(); i != st.users.end();) {
    if (st.ring.owner(runtime::hash_ring::user_key(i->first)) == st.node_id) {
      ++i;
      continue;
    }
    auto& p = i->second;
    for (auto& [conn, device] : p.devices) {
      if (monitors_device(self, conn))
        unindex_device(self, conn.address());
      self->anon_send(conn, msg::presence_moved_atom::value, i->first);
    }
    if (p.watchers)
      for (auto& [addr, w] : *p.watchers) {
        unindex_watch(self, addr, i->first);
        self->anon_send(w, msg::presence_moved_atom::value, i->first);
      }
    for (auto& [rp, watch] : p.waiting)
      rp.deliver(caf::make_error(errc::room_unavailable, "the user's home moved"));
    forget(self, i);
  }
}

// A device of the user is alive (its first heartbeat registers it).
void heartbeat(shard_self self, const msg::presence_heartbeat& x) {
  auto* p = presence_of(self, x.user);
  if (p == nullptr)
    return self->anon_send(x.conn, msg::presence_moved_atom::value, x.user);
  auto i = std::find_if(p->devices.begin(), p->devices.end(), [&](auto& d) {
    return d.first == x.conn;
  });
  if (i == p->devices.end()) {
    if (monitors_device(self, x.conn))
      monitor_entry(self, x.conn).device_of = x.user;
    i = p->devices.emplace(p->devices.end(), x.conn, p->next_device++);
  }
  auto now = runtime::wall_ms();
  auto was_online = p->tracker.online();
  p->tracker.heartbeat(i->second, now);
  if (!was_online)
    after_change(self, x.user, *p, was_online, now);
}

caf::result<msg::presence_info> watch(shard_self self, const msg::presence_watch& x) {
  auto* p = presence_of(self, x.user);
  if (p == nullptr)
    return caf::make_error(errc::room_unavailable, "the user's home moved");
  if (!p->watchers)
    p->watchers = std::make_unique<std::unordered_map<caf::actor_addr, caf::actor>>();
  if (p->watchers->emplace(x.conn.address(), x.conn).second)
    monitor_entry(self, x.conn).watching.push_back(x.user);
  // The watcher starts from what the others were last told, so that the
  // next published change is a change for it too.
  if (p->loaded)
    return info_of(x.user, *p, true);
  auto rp = self->make_response_promise<msg::presence_info>();
  p->waiting.emplace_back(rp, true);
  return rp;
}

/// How long the admin API's look at a user waits for its stored last-seen
/// time (below the gateway's own 5 s).
constexpr auto store_wait = std::chrono::seconds(3);

// The admin API's view of a user's presence (docs/protocol.md, "Admin API").
frame presence_view(shard_self self, const msg::presence_info& info) {
  auto& st = self->state;
  json_writer w;
  w.key("user").str(info.user).key("status").str(info.online ? "online" : "offline");
  w.key("last_seen").num(info.last_seen).key("devices").begin_array();
  if (auto i = st.users.find(info.user); i != st.users.end())
    for (auto& [conn, device] : i->second.devices) {
      auto node = conn.node() == self->node() ? st.node_id : std::string{};
      for (auto& [id, name] : st.node_names)
        if (node.empty() && id == conn.node())
          node = name;
      w.begin_object().key("connection").str(node + ":" + std::to_string(conn.id()));
      w.key("node").str(node).key("last_heartbeat");
      w.num(i->second.tracker.last_heartbeat(device).value_or(0)).end_object();
    }
  w.end_array();
  return w.finish();
}

msg::presence_shard_actor::behavior_type presence_shard(shard_self self, std::string node_id,
                                                        msg::store_actor store,
                                                        presence_options opts,
                                                        std::shared_ptr<node_metrics> metrics) {
  auto& st = self->state;
  st.metrics = std::move(metrics);
  st.node_id = std::move(node_id);
  st.store = std::move(store);
  st.opts = opts;
  // A watcher stopped, or a device on another node stopped without saying so
  // (its node failed): only the users it watched or was a device of.
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& st = self->state;
    auto e = st.monitored.find(dm.source);
    if (e == st.monitored.end())
      return;
    auto entry = std::move(e->second);
    st.monitored.erase(e);
    for (auto& user : entry.watching)
      if (auto i = st.users.find(user);
          i != st.users.end() && erase_watcher(i->second, dm.source))
        forget_if_unused(self, user);
    if (!entry.device_of.empty())
      if (auto i = st.users.find(entry.device_of); i != st.users.end())
        drop_device(self, entry.device_of, i->second, dm.source);
  });
  return {
    [=](msg::presence_heartbeat& x) {
      if (auto& m = self->state.metrics)
        m->note_mailbox(node_metrics::actor_kind::presence_shard, mailbox_backlog(self));
      heartbeat(self, x);
    },
    [=](msg::presence_disconnect& x) {
      auto i = self->state.users.find(x.user);
      if (i == self->state.users.end())
        return;
      if (drop_device(self, x.user, i->second, x.conn.address())
          && monitors_device(self, x.conn))
        unindex_device(self, x.conn.address());
    },
    [=](msg::presence_watch& x) {
      return watch(self, x);
    },
    [=](msg::presence_unwatch& x) {
      auto i = self->state.users.find(x.user);
      if (i != self->state.users.end() && erase_watcher(i->second, x.conn.address())) {
        unindex_watch(self, x.conn.address(), x.user);
        forget_if_unused(self, x.user);
      }
    },
    [=](msg::presence_query& x) -> caf::result<msg::presence_info> {
      auto* p = presence_of(self, x.user);
      if (p == nullptr)
        return caf::make_error(errc::room_unavailable, "the user's home moved");
      if (p->loaded)
        return info_of(x.user, *p, false);
      auto rp = self->make_response_promise<msg::presence_info>();
      p->waiting.emplace_back(rp, false);
      return rp;
    },
    [=](msg::publish_atom, const std::string& user) {
      auto i = self->state.users.find(user);
      if (i != self->state.users.end() && i->second.tracker.due(runtime::wall_ms()))
        publish(self, user, i->second);
    },
    [=](msg::expire_atom) {
      sweep(self);
    },
    [=](msg::cluster_view& x) {
      auto& st = self->state;
      st.ring = runtime::hash_ring{x.nodes};
      st.node_names.clear();
      for (size_t i = 0; i < x.nodes.size() && i < x.directories.size(); ++i)
        st.node_names.emplace_back(x.directories[i].node(), x.nodes[i]);
      move_away(self);
    },
    [=](msg::inspect_atom, msg::mailbox_atom) {
      return mailbox_backlog(self);
    },
    // The query waits for the stored last-seen time like a client's would;
    // the devices are read once it is in.
    [=](msg::inspect_atom, std::string& user) -> caf::result<frame> {
      auto rp = self->make_response_promise<frame>();
      self
        ->request(caf::actor_cast<msg::presence_shard_actor>(self), store_wait,
                  msg::presence_query{std::move(user)})
        .then(
          [=](msg::presence_info& info) mutable {
            // PROTOCOL.md: an unknown user is 404. Known: online now, or seen
            // once (its last-seen time is stored).
            if (!info.online && info.last_seen == 0)
              rp.deliver(caf::make_error(
                errc::not_found, "no user '" + info.user + "' has been seen on this cluster"));
            else
              rp.deliver(presence_view(self, info));
          },
          [=](caf::error& err) mutable {
            rp.deliver(std::move(err));
          });
      return rp;
    },
  };
}

} // namespace

msg::presence_shard_actor spawn_presence_shard(caf::local_actor* parent, std::string node_id,
                                               msg::store_actor store, presence_options opts,
                                               std::shared_ptr<node_metrics> metrics) {
  return parent->spawn(presence_shard, std::move(node_id), std::move(store), opts,
                       std::move(metrics));
}

size_t presence_shard_of(const std::string& user, size_t shards) {
  return std::hash<std::string>{}(user) % std::max<size_t>(shards, 1);
}

} // namespace chat::actors
