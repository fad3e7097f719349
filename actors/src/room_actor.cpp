#include "room_actor.hpp"

#include <deque>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/actors/messages.hpp"
#include "chat/runtime/clock.hpp"

namespace chat::actors {

namespace {

struct member {
  caf::actor conn;
  std::string user;
  std::shared_ptr<outbox> out;
  uint64_t delivered = 0; ///< last seq pushed to this member
  bool live = false;      ///< caught up: receives the fan-out directly
  uint64_t generation = 0;
};

struct pending_post {
  storage::append_entry entry;
  caf::response_promise promise;
};

struct room_state {
  std::string room;
  std::string node_id;
  caf::actor store;
  caf::actor directory;
  std::chrono::milliseconds idle{60000};
  storage::room_meta meta;
  std::unordered_map<caf::actor_id, member> members;
  std::unordered_map<std::string, size_t> users; ///< connections per user
  std::vector<pending_post> pending;
  bool in_flight = false;
  /// The most recent frames, so that most joins with `since` replay from memory.
  std::deque<std::pair<uint64_t, frame>> recent;
  size_t recent_bytes = 0;
  uint64_t generation = 0;
  uint64_t idle_epoch = 0;
  std::unordered_map<std::string, uint64_t> receipts;      ///< user -> read seq
  std::unordered_map<std::string, int64_t> last_typing_ms; ///< user -> last relayed
  static inline const char* name = "room";
};

using room_self = caf::stateful_actor<room_state>;

// The recent-frames window: at most this many frames and this many bytes.
constexpr size_t recent_capacity = 512;
constexpr size_t recent_max_bytes = 512 * 1024;
constexpr uint32_t replay_batch = 256;
/// How long a replay waits for a full outbox to drain before it goes on.
constexpr auto replay_pause = std::chrono::milliseconds(5);
/// Posts waiting for the next commit of one room before new ones are shed.
constexpr size_t max_pending_posts = 10000;
/// At most one typing signal per user per room per second is relayed.
constexpr int64_t typing_interval_ms = 1000;

void arm_idle_timer(room_self* self) {
  auto& st = self->state;
  ++st.idle_epoch;
  if (st.members.empty())
    self->delayed_send(self, st.idle, msg::idle_atom::value, st.idle_epoch);
}

void broadcast(room_self* self, const frame& f, frame_kind kind,
               const std::string* except_user = nullptr) {
  for (auto& [id, m] : self->state.members)
    if (m.live && (except_user == nullptr || m.user != *except_user))
      m.out->push(f, kind);
}

// Brings a member that joined with `since` up to the live stream: from the
// recent-frames cache when it reaches back far enough, else from the store in
// batches, and then from the cache. Live fan-out skips the member until then,
// so the replay and the live messages never interleave. The replay never
// overflows the member's outbox: when it is full, the replay pauses and
// resumes shortly after from where it stopped.
void catch_up(room_self* self, caf::actor_id key) {
  auto& st = self->state;
  auto i = st.members.find(key);
  if (i == st.members.end())
    return;
  auto& m = i->second;
  auto pause = [&] {
    self->delayed_send(self, replay_pause, msg::replay_atom::value, key, m.generation);
  };
  if (m.delivered >= st.meta.seq) {
    m.live = true;
    return;
  }
  if (!st.recent.empty() && st.recent.front().first <= m.delivered + 1) {
    for (auto& [seq, f] : st.recent) {
      if (seq <= m.delivered)
        continue;
      if (!m.out->has_room(f.size()))
        return pause();
      m.out->push(f, frame_kind::stored);
      m.delivered = seq;
    }
    m.live = true;
    return;
  }
  auto generation = m.generation;
  self
    ->request(st.store, caf::infinite,
              msg::store_read{st.room, 0, m.delivered, true, replay_batch})
    .then(
      [=](msg::message_list& xs) {
        auto& st = self->state;
        auto i = st.members.find(key);
        if (i == st.members.end() || i->second.generation != generation)
          return;
        auto& m = i->second;
        if (xs.empty()) {
          spdlog::error("room '{}': log ends at seq {} but the room is at {}", st.room,
                        m.delivered, st.meta.seq);
          m.delivered = st.meta.seq;
        }
        for (auto& r : xs) {
          if (r.seq <= m.delivered)
            continue;
          auto f = message_event(st.room, r);
          if (!m.out->has_room(f.size())) {
            self->delayed_send(self, replay_pause, msg::replay_atom::value, key, generation);
            return;
          }
          m.out->push(f, frame_kind::stored);
          m.delivered = r.seq;
        }
        catch_up(self, key);
      },
      [=](caf::error&) {
        auto& st = self->state;
        auto i = st.members.find(key);
        if (i == st.members.end() || i->second.generation != generation)
          return;
        // The replay cannot complete: closing the outbox makes the session drop
        // the connection, and the client rejoins with `since` and loses nothing.
        i->second.out->close();
      });
}

void commit_pending(room_self* self);

void on_committed(room_self* self, std::vector<pending_post>& batch,
                  storage::room_append_result& res) {
  auto& st = self->state;
  st.meta = std::move(res.meta);
  for (size_t i = 0; i < batch.size(); ++i)
    batch[i].promise.deliver(msg::post_result{res.outcomes[i].seq, res.outcomes[i].dup});
  for (auto& rec : res.stored) {
    auto f = message_event(st.room, rec);
    for (auto& [id, m] : st.members)
      if (m.live) {
        m.out->push(f, frame_kind::stored);
        m.delivered = rec.seq;
      }
    st.recent_bytes += f.size();
    st.recent.emplace_back(rec.seq, std::move(f));
    while (st.recent.size() > recent_capacity
           || (st.recent.size() > 1 && st.recent_bytes > recent_max_bytes)) {
      st.recent_bytes -= st.recent.front().second.size();
      st.recent.pop_front();
    }
  }
}

// One append in flight per room: the next batch is formed from whatever posts
// arrived during the commit, which keeps the log gap-free and in arrival order.
void commit_pending(room_self* self) {
  auto& st = self->state;
  if (st.in_flight || st.pending.empty())
    return;
  st.in_flight = true;
  auto batch = std::make_shared<std::vector<pending_post>>(std::move(st.pending));
  st.pending.clear();
  storage::room_append req{st.room, st.node_id, st.meta, {}};
  req.entries.reserve(batch->size());
  for (auto& p : *batch)
    req.entries.push_back(p.entry);
  self->request(st.store, caf::infinite, msg::store_append{std::move(req)})
    .then(
      [=](storage::room_append_result& res) {
        on_committed(self, *batch, res);
        self->state.in_flight = false;
        commit_pending(self);
      },
      [=](caf::error& err) {
        for (auto& p : *batch)
          p.promise.deliver(err);
        self->state.in_flight = false;
        commit_pending(self);
      });
}

void remove_member(room_self* self, caf::actor_id key) {
  auto& st = self->state;
  auto i = st.members.find(key);
  if (i == st.members.end())
    return;
  auto user = std::move(i->second.user);
  st.members.erase(i);
  if (auto u = st.users.find(user); u != st.users.end() && --u->second == 0) {
    st.users.erase(u);
    broadcast(self, member_event(st.room, user, "leave"), frame_kind::reply);
  }
  if (st.members.empty())
    arm_idle_timer(self);
}

caf::behavior room_actor(room_self* self, std::string room, std::string node_id,
                         caf::actor store, caf::actor directory,
                         std::chrono::milliseconds idle) {
  auto& st = self->state;
  st.room = std::move(room);
  st.node_id = std::move(node_id);
  st.store = std::move(store);
  st.directory = std::move(directory);
  st.idle = idle;
  // Nothing is handled before the room knows where its log stands.
  auto load_failed = [=](caf::error& err) {
    spdlog::error("room '{}': cannot load: {}", self->state.room, self->system().render(err));
    self->quit(err);
  };
  self->request(st.store, caf::infinite, msg::store_load{st.room})
    .await([=](storage::room_meta& meta) { self->state.meta = std::move(meta); }, load_failed);
  self->request(st.store, caf::infinite, msg::store_load_receipts{st.room})
    .await(
      [=](msg::receipt_list& xs) {
        for (auto& [user, seq] : xs)
          self->state.receipts.emplace(std::move(user), seq);
      },
      load_failed);
  self->set_down_handler([=](caf::down_msg& dm) {
    remove_member(self, dm.source.id());
  });
  arm_idle_timer(self);
  return {
    [=](msg::room_join& x) -> uint64_t {
      auto& st = self->state;
      auto key = x.conn.id();
      auto existing = st.members.find(key);
      if (existing == st.members.end()) {
        self->monitor(x.conn);
        if (st.users[x.user]++ == 0)
          broadcast(self, member_event(st.room, x.user, "join"), frame_kind::reply);
      }
      auto& m = st.members[key];
      m.conn = x.conn;
      m.user = x.user;
      m.out = x.out;
      m.generation = ++st.generation;
      m.live = false;
      m.delivered = x.has_since ? std::min(x.since, st.meta.seq) : st.meta.seq;
      std::vector<std::string> users;
      std::vector<std::pair<std::string, uint64_t>> receipts;
      users.reserve(st.users.size());
      for (auto& [u, n] : st.users) {
        users.push_back(u);
        if (auto r = st.receipts.find(u); r != st.receipts.end())
          receipts.emplace_back(u, r->second);
      }
      auto joined = joined_event(x.ref, st.room, st.meta.seq, users, receipts);
      m.out->push(joined, frame_kind::reply);
      if (x.reply)
        x.reply->push(joined, frame_kind::reply);
      catch_up(self, key);
      ++st.idle_epoch;
      return st.meta.seq;
    },
    [=](msg::room_leave& x) {
      self->demonitor(x.conn.address());
      remove_member(self, x.conn.id());
    },
    [=](msg::room_post& x) {
      auto& st = self->state;
      if (st.pending.size() >= max_pending_posts) {
        // High-water mark: shed instead of queueing without bound. Sends are
        // idempotent, so the client retries with the same id.
        self->make_response_promise().deliver(
          caf::make_error(errc::overloaded, "room '" + st.room + "' is overloaded"));
        return;
      }
      st.pending.push_back(pending_post{
        storage::append_entry{std::move(x.id), std::move(x.user), runtime::wall_ms(), std::move(x.body)},
        self->make_response_promise()});
      commit_pending(self);
    },
    [=](msg::room_typing& x) {
      auto& st = self->state;
      if (st.members.count(x.conn.id()) == 0)
        return;
      auto now = runtime::steady_ms();
      auto& last = st.last_typing_ms[x.user];
      if (last != 0 && now - last < typing_interval_ms)
        return; // throttled: dropped silently
      last = now;
      broadcast(self, typing_event(st.room, x.user), frame_kind::ephemeral, &x.user);
    },
    [=](msg::room_read& x) -> caf::result<bool> {
      auto& st = self->state;
      if (st.members.count(x.conn.id()) == 0)
        return caf::make_error(errc::not_joined);
      if (x.seq > st.meta.seq)
        return caf::make_error(errc::bad_argument,
                               "seq " + std::to_string(x.seq) + " is beyond the room's last seq "
                                 + std::to_string(st.meta.seq));
      auto& current = st.receipts[x.user];
      if (x.seq <= current)
        return true; // receipts only move forward; an older one is ignored
      current = x.seq;
      auto rp = self->make_response_promise();
      self
        ->request(st.store, caf::infinite,
                  msg::store_receipt{{st.room, x.user, x.seq}})
        .then(
          [=](bool) mutable {
            auto& st = self->state;
            broadcast(self, read_event(st.room, x.user, x.seq), frame_kind::reply);
            rp.deliver(true);
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [=](msg::room_signal& x) -> caf::result<bool> {
      auto& st = self->state;
      if (st.members.count(x.conn.id()) == 0)
        return caf::make_error(errc::not_joined);
      frame f;
      for (auto& [id, m] : st.members)
        if (m.user == x.to) {
          if (!f)
            f = signal_event(st.room, x.from, x.data);
          m.out->push(f, frame_kind::reply);
        }
      if (!f)
        return caf::make_error(errc::not_found, "'" + x.to + "' is not in room '" + st.room + "'");
      return true;
    },
    [=](msg::members_atom) {
      std::vector<std::string> users;
      for (auto& [u, n] : self->state.users)
        users.push_back(u);
      return users;
    },
    [=](msg::replay_atom, caf::actor_id key, uint64_t generation) {
      auto& members = self->state.members;
      if (auto i = members.find(key); i != members.end() && i->second.generation == generation)
        catch_up(self, key);
    },
    [=](msg::idle_atom, uint64_t epoch) {
      auto& st = self->state;
      if (epoch != st.idle_epoch || !st.members.empty() || st.in_flight || !st.pending.empty())
        return;
      // While the directory decides, nothing else is handled; joins that were
      // already on their way are bounced by CAF once the room has quit, and
      // their senders resolve the room again.
      self->request(st.directory, caf::infinite, msg::passivate_atom::value, false, st.room)
        .await([=](bool ok) {
          if (ok) {
            spdlog::debug("room '{}': passivated", self->state.room);
            self->quit();
          }
        });
    },
  };
}

} // namespace

caf::actor spawn_room(caf::local_actor* parent, std::string room, std::string node_id,
                      caf::actor store, caf::actor directory, std::chrono::milliseconds idle) {
  return parent->spawn(room_actor, std::move(room), std::move(node_id), std::move(store),
                       std::move(directory), idle);
}

} // namespace chat::actors
