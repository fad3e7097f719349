#include "store_actor.hpp"

#include <algorithm>
#include <unordered_set>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/mailbox.hpp"
#include "store_messages.hpp"

namespace chat::actors {

namespace {

/// While writes fail, the store asks RocksDB to resume this often.
constexpr auto resume_interval = std::chrono::seconds(1);
/// Records one retention sweep looks at; a sweep with more to do runs again
/// after the writes queued meanwhile, not after a whole interval.
constexpr size_t trim_budget = 10000;

struct store_state {
  std::shared_ptr<storage::store> db;
  std::shared_ptr<node_metrics> metrics;
  bool failing = false; ///< the last group commit failed (a full disk, say)
  storage::write_group pending;
  /// One per pending append, receipt, rewrite (a replica's copy), promise.
  std::vector<caf::typed_response_promise<storage::room_append_result>> append_promises;
  std::vector<caf::typed_response_promise<bool>> receipt_promises;
  std::vector<caf::typed_response_promise<uint64_t>> rewrite_promises;
  std::vector<caf::typed_response_promise<msg::room_promise>> promise_promises;
  /// Rooms with an append, rewrite or promise in `pending`: a second operation
  /// on one of them starts a new group, so each sees the one before it.
  std::unordered_set<std::string> rooms;
  bool flush_scheduled = false;
  caf::actor trim_listener; ///< told which rooms a sweep trimmed
  msg::store_stats stats;
  static inline const char* name = "store";
};

using store_self = msg::store_actor::stateful_pointer<store_state>;

// Group commit: every write that is already in the mailbox when the first one
// is handled lands in the same WriteBatch, because the flush trigger is queued
// behind them. While a commit (fsync) runs, new writes queue up and form the
// next group, so the batch grows with the load.
void commit_pending(store_self self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty())
    return;
  storage::group_result results;
  auto started = std::chrono::steady_clock::now();
  auto s = st.db->commit(st.pending, results);
  st.metrics->store_commit_us.observe(
    static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                            std::chrono::steady_clock::now() - started)
                            .count()));
  if (!s.ok()) {
    // Nothing of the group was written (one WriteBatch): every sender may
    // resend with the same id. One line when writes start failing, not one per
    // group; the store retries RocksDB each second until they succeed again.
    st.metrics->storage_failures.fetch_add(1, std::memory_order_relaxed);
    if (!std::exchange(st.failing, true)) {
      st.metrics->storage_failing.store(1, std::memory_order_relaxed);
      spdlog::error("store: writes fail ({}); sends are answered 'unavailable' until they "
                    "succeed again (retrying each second)",
                    s.error);
      self->delayed_send(self, resume_interval, msg::resume_atom::value);
    }
    auto err = caf::make_error(errc::storage_full, s.error);
    for (auto& rp : st.append_promises)
      rp.deliver(err);
    for (auto& rp : st.receipt_promises)
      rp.deliver(err);
    for (auto& rp : st.rewrite_promises)
      rp.deliver(err);
    for (auto& rp : st.promise_promises)
      rp.deliver(err);
  } else {
    if (std::exchange(st.failing, false)) {
      st.metrics->storage_failing.store(0, std::memory_order_relaxed);
      spdlog::warn("store: writes succeed again");
    }
    st.stats.appends += st.pending.appends.size();
    if (!st.pending.appends.empty())
      st.metrics->store_batch_appends.observe(st.pending.appends.size());
    ++st.stats.commits;
    for (size_t i = 0; i < st.append_promises.size(); ++i)
      st.append_promises[i].deliver(std::move(results.appends[i]));
    for (auto& rp : st.receipt_promises)
      rp.deliver(true);
    for (size_t i = 0; i < st.rewrite_promises.size(); ++i) {
      auto& r = results.rewrites[i];
      if (r.fenced)
        st.rewrite_promises[i].deliver(caf::make_error(
          errc::fenced, "room '" + st.pending.rewrites[i].room + "': a newer home took over"));
      else
        st.rewrite_promises[i].deliver(r.seq);
    }
    for (size_t i = 0; i < st.promise_promises.size(); ++i) {
      auto& p = results.promises[i];
      st.promise_promises[i].deliver(msg::room_promise{p.ok, storage::encode(p.meta)});
    }
  }
  st.pending = storage::write_group{};
  st.append_promises.clear();
  st.receipt_promises.clear();
  st.rewrite_promises.clear();
  st.promise_promises.clear();
  st.rooms.clear();
}

// A second operation on a room in the pending group commits the group first.
void claim_room(store_self self, const std::string& room) {
  if (!self->state.rooms.insert(room).second) {
    commit_pending(self);
    self->state.rooms.insert(room);
  }
}

void schedule_flush(store_self self) {
  if (!self->state.flush_scheduled) {
    self->state.flush_scheduled = true;
    self->send(self, msg::flush_atom::value);
  }
}

caf::error storage_error(const char* what, const std::string& name, const storage::status& s) {
  spdlog::error("store: {} '{}' failed: {}", what, name, s.error);
  return caf::make_error(errc::storage_failed);
}

// ADR 8: a promise (with `accept`: and that the ballot wrote the log as it
// stands), durable before it is given (so a restarted node keeps it).
caf::result<msg::room_promise> promise(store_self self, const msg::room_prepare& x,
                                       bool accept) {
  claim_room(self, x.room);
  auto& st = self->state;
  st.pending.promises.push_back({x.room, storage::ballot{x.ballot_n, x.ballot_node}, accept});
  auto rp = self->make_response_promise<msg::room_promise>();
  st.promise_promises.emplace_back(rp);
  schedule_flush(self);
  return rp;
}

// A replica's copy of a room's log (ADR 8), in the group commit.
caf::result<uint64_t> replicate(store_self self, msg::room_replicate& x) {
  auto meta = storage::decode_room_meta(x.meta);
  if (!meta)
    return caf::make_error(errc::bad_argument, "undecodable room meta in replication");
  storage::room_rewrite w{x.room, x.after, {}, std::move(*meta), {}, x.from, x.last};
  w.records.reserve(x.records.size());
  for (auto& bytes : x.records) {
    auto rec = storage::decode_message(bytes);
    if (!rec)
      return caf::make_error(errc::bad_argument, "undecodable record in replication");
    w.records.push_back(std::move(*rec));
  }
  for (size_t i = 0; i < x.receipt_users.size() && i < x.receipt_seqs.size(); ++i)
    w.receipts.emplace_back(x.receipt_users[i], x.receipt_seqs[i]);
  claim_room(self, x.room);
  auto& st = self->state;
  st.pending.rewrites.push_back(std::move(w));
  auto rp = self->make_response_promise<uint64_t>();
  st.rewrite_promises.emplace_back(rp);
  schedule_flush(self);
  return rp;
}

// After a failed commit (a full disk): ask RocksDB to write again, each second.
void resume(store_self self) {
  auto& st = self->state;
  if (!st.failing)
    return;
  if (auto s = st.db->resume(); !s.ok()) {
    spdlog::debug("store: cannot resume writes yet: {}", s.error);
    self->delayed_send(self, resume_interval, msg::resume_atom::value);
    return;
  }
  st.failing = false;
  st.metrics->storage_failing.store(0, std::memory_order_relaxed);
  spdlog::warn("store: writes resumed");
}

// One retention sweep (bounded), then the next: soon if there is more, else
// after the interval.
void sweep(store_self self, std::chrono::milliseconds trim_interval) {
  auto& st = self->state;
  // The writes queued behind this sweep go first: a sweep never delays a
  // group commit (a prepare or a replica's copy waits on it).
  commit_pending(self);
  storage::trim_stats ts;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  // Not while writes fail (a full disk): RocksDB must never meet it.
  if (st.failing) {
    self->delayed_send(self, trim_interval, msg::trim_atom::value);
    return;
  }
  if (auto s = st.db->trim(now, trim_budget, ts); !s.ok()) {
    spdlog::warn("store: retention sweep failed: {}", s.error);
    self->delayed_send(self, trim_interval, msg::trim_atom::value);
    return;
  }
  st.metrics->trimmed_messages.fetch_add(ts.removed, std::memory_order_relaxed);
  st.metrics->forgotten_ids.fetch_add(ts.forgotten, std::memory_order_relaxed);
  if (st.trim_listener)
    for (auto& [room, seq] : ts.rooms)
      caf::anon_send(st.trim_listener, msg::trim_atom::value, room,
                     seq); // untyped: the directory
  if (ts.more)
    self->send(self, msg::trim_atom::value);
  else
    self->delayed_send(self, trim_interval, msg::trim_atom::value);
}

caf::result<msg::message_list> read(store_self self, msg::store_read& x) {
  msg::message_list out;
  auto& db = *self->state.db;
  auto& w = x.window;
  auto s = w.after
             ? db.read_after(x.room, *w.after, w.limit, out)
             : db.read_before(x.room, w.before == 0 ? UINT64_MAX : w.before, w.limit, out);
  if (!s.ok())
    return storage_error("reading room", x.room, s);
  return out;
}

caf::result<storage::room_meta> load(store_self self, const msg::store_load& x) {
  storage::room_meta meta;
  if (auto s = self->state.db->load_room(x.room, meta); !s.ok())
    return storage_error("loading room", x.room, s);
  return meta;
}

caf::result<msg::receipt_list> load(store_self self, const msg::store_load_receipts& x) {
  msg::receipt_list out;
  if (auto s = self->state.db->load_receipts(x.room, out); !s.ok())
    return storage_error("loading receipts of", x.room, s);
  return out;
}

caf::result<int64_t> load(store_self self, const msg::store_load_last_seen& x) {
  std::optional<int64_t> seen;
  if (auto s = self->state.db->load_last_seen(x.user, seen); !s.ok())
    return storage_error("loading last-seen of", x.user, s);
  return seen.value_or(0);
}

bool final_flush(store_self self) {
  commit_pending(self);
  if (auto s = self->state.db->flush(); !s.ok()) {
    spdlog::error("store: final flush failed: {}", s.error);
    return false;
  }
  return true;
}

msg::store_actor::behavior_type store_actor(store_self self, std::shared_ptr<storage::store> db,
                                            std::shared_ptr<node_metrics> metrics,
                                            std::chrono::milliseconds trim_interval) {
  self->state.db = std::move(db);
  self->state.metrics = std::move(metrics);
  if (trim_interval.count() > 0)
    self->delayed_send(self, trim_interval, msg::trim_atom::value);
  return {
    [=](msg::store_append& x) -> caf::result<storage::room_append_result> {
      claim_room(self, x.req.room);
      auto& st = self->state;
      if (st.metrics)
        st.metrics->note_mailbox(node_metrics::actor_kind::store, mailbox_backlog(self));
      st.pending.appends.emplace_back(std::move(x.req));
      auto rp = self->make_response_promise<storage::room_append_result>();
      st.append_promises.emplace_back(rp);
      schedule_flush(self);
      return rp;
    },
    [=](msg::store_receipt& x) -> caf::result<bool> {
      auto& st = self->state;
      st.pending.receipts.emplace_back(std::move(x.update));
      auto rp = self->make_response_promise<bool>();
      st.receipt_promises.emplace_back(rp);
      schedule_flush(self);
      return rp;
    },
    [=](msg::store_last_seen& x) {
      self->state.pending.last_seen.emplace_back(std::move(x.update));
      schedule_flush(self);
    },
    [=](msg::flush_atom) {
      commit_pending(self);
    },
    [=](msg::stats_atom) -> msg::store_stats {
      auto& st = self->state;
      auto s = st.stats;
      auto& p = st.pending;
      s.pending = p.appends.size() + p.receipts.size() + p.last_seen.size() + p.rewrites.size()
                  + p.promises.size();
      s.mailbox = mailbox_backlog(self);
      s.failing = st.failing;
      if (st.metrics) {
        auto h = st.metrics->store_commit_us.read();
        if (h.count > 0) {
          s.commit_mean_us = h.sum / h.count;
          auto i = std::find_if(h.cumulative.begin(), h.cumulative.end(), [&](uint64_t n) {
            return n * 100 >= h.count * 99;
          });
          auto k = static_cast<size_t>(i - h.cumulative.begin());
          s.commit_p99_us = k < h.bounds.size() ? h.bounds[k] : h.bounds.back();
        }
      }
      s.rocksdb_stats = st.db->stats_report();
      for (auto* name :
           {"rocksdb.estimate-num-keys", "rocksdb.total-sst-files-size",
            "rocksdb.cur-size-all-mem-tables", "rocksdb.num-running-compactions",
            "rocksdb.estimate-pending-compaction-bytes", "rocksdb.actual-delayed-write-rate"})
        if (auto v = st.db->int_property(name))
          s.properties.emplace_back(name, *v);
      return s;
    },
    [=](msg::store_load& x) {
      return load(self, x);
    },
    [=](msg::store_load_receipts& x) {
      return load(self, x);
    },
    [=](msg::store_load_last_seen& x) {
      return load(self, x);
    },
    [=](msg::store_read& x) {
      return read(self, x);
    },
    [=](msg::rooms_atom) -> caf::result<std::vector<std::string>> {
      commit_pending(self); // writes already queued belong to the logs being listed
      std::vector<std::string> rooms;
      if (auto s = self->state.db->list_rooms(rooms); !s.ok())
        return storage_error("listing", "rooms", s);
      return rooms;
    },
    // ADR 8: the promise is durable before it is given (so a restarted node
    // keeps it); promises and replica writes join the group commit.
    [=](msg::room_prepare& x) {
      return promise(self, x, false);
    },
    [=](msg::accept_atom, msg::room_prepare& x) {
      return promise(self, x, true);
    },
    [=](msg::room_replicate& x) {
      return replicate(self, x);
    },
    [=](msg::resume_atom) {
      resume(self);
    },
    [=](msg::trim_atom) {
      sweep(self, trim_interval);
    },
    [=](msg::trim_atom, caf::actor listener) {
      self->state.trim_listener = std::move(listener);
    },
    [=](msg::shutdown_atom) {
      return final_flush(self);
    },
  };
}

} // namespace

msg::store_actor spawn_store(caf::actor_system& sys, std::shared_ptr<storage::store> db,
                             std::shared_ptr<node_metrics> metrics,
                             std::chrono::milliseconds trim_interval) {
  return sys.spawn<caf::detached>(store_actor, std::move(db), std::move(metrics),
                                  trim_interval);
}

} // namespace chat::actors
