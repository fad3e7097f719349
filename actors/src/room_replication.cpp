#include "room_replication.hpp"

#include <memory>
#include <random>

#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/runtime/log.hpp"
#include "room_export.hpp"
#include "room_state.hpp"
#include "store_messages.hpp"

namespace chat::actors {

namespace {

/// A node that does not answer a step of the take-over within this is taken as
/// unreachable: the room stops and is activated again by the next request (the
/// client's retry). A healthy node answers in a group commit or two; a node that
/// was just paused may still be in the view, and waiting longer for it only
/// delays the failover.
constexpr auto node_timeout = std::chrono::milliseconds(1000);
/// A replica that does not confirm an append within this fails the append.
constexpr auto replicate_timeout = std::chrono::seconds(2);
/// Rounds of "someone promised a newer ballot" before the take-over gives up.
constexpr int max_rounds = 4;
/// Parts sent to one replica in a row that it answers "behind" before giving up.
constexpr int max_behind = 4;

uint64_t micros_since(std::chrono::steady_clock::time_point t0) {
  return static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
      .count());
}

template <class Self>
struct takeover {
  Self self;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  room_nodes nodes;
  storage::room_meta own; ///< this node's meta, as its store last said
  storage::ballot ballot;
  /// Who wrote the log being copied (the best log's `accepted`): the label of
  /// every part of a copy until the whole log is in place (ADR 8).
  storage::ballot source;
  uint64_t highest_n = 0; ///< the newest ballot counter seen
  int round = 0;
  size_t answers = 0;
  bool refused = false;
  bool over = false; ///< failed: later answers are ignored
  /// What each asked node answered, in the order asked: the store, then peers.
  std::vector<storage::room_meta> promised;
  std::function<void(storage::room_meta&)> done;
  std::function<void(const caf::error&)> failed;

  void fail(const caf::error& err) {
    if (over)
      return;
    over = true;
    failed(err);
  }
};

template <class Self>
using takeover_ptr = std::shared_ptr<takeover<Self>>;

template <class Self>
void prepare(const takeover_ptr<Self>& t);
template <class Self>
void adopt(const takeover_ptr<Self>& t, msg::directory_actor from, uint64_t start,
           uint64_t after);
template <class Self>
void sync_replica(const takeover_ptr<Self>& t, size_t i, uint64_t start, uint64_t after,
                  int behind);
template <class Self>
void accept_own(const takeover_ptr<Self>& t);
template <class Self>
void accept_replica(const takeover_ptr<Self>& t, size_t i);
template <class Self>
void next_replica(const takeover_ptr<Self>& t, size_t i);

// Who proposes a ballot: this take-over, not only this node. Two room actors
// of one room on one node (one still finishing while the next activates) that
// saw the same counter must not propose the same ballot: both would pass the
// stores' "promised == ballot" check and write the same seqs. The randomized
// schedules found it (seq 252 acked for two ids, no crash). The incarnation
// keeps a restarted node's actor ids from naming an earlier process's
// proposer, whose messages may still be in flight.
std::string proposer(const std::string& node, caf::actor_id id) {
  static const auto incarnation = [] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) | rd();
  }();
  char tag[17];
  std::snprintf(tag, sizeof tag, "%016llx", static_cast<unsigned long long>(incarnation));
  return node + "/" + tag + "/" + std::to_string(id);
}

caf::error unreachable(const std::string& room, const char* what) {
  return caf::make_error(errc::room_unavailable,
                         "room '" + room + "': " + what + "; it is activated again later");
}

// The meta a part of a log leaves behind: the part's last record, or the
// sender's meta for the last part. Promised to `ballot`, but labelled as
// written by `source`, the log's own writer: a copy that stops after a part
// leaves a prefix of that writer's log, which a later take-over must not
// prefer to a complete one. Only the accept once the whole log is in place
// (accept_own, accept_replica) labels it with the new ballot.
std::optional<storage::room_meta> meta_after(const msg::room_import& part,
                                             const storage::ballot& ballot,
                                             const storage::ballot& source) {
  std::optional<storage::room_meta> m;
  if (!part.meta.empty()) {
    m = storage::decode_room_meta(part.meta);
    // The records and the meta are read one after the other: a log that moved
    // in between is not a copy (the take-over fails and starts again).
    if (m && !part.records.empty()) {
      auto rec = storage::decode_message(part.records.back());
      if (!rec || rec->seq != m->seq)
        return std::nullopt;
    }
  } else if (!part.records.empty()) {
    auto rec = storage::decode_message(part.records.back());
    if (rec) {
      m.emplace();
      m->seq = rec->seq;
      m->vc = rec->vc;
      m->last = rec->ballot;
    }
  }
  if (m) {
    m->promised = ballot;
    m->accepted = source;
  }
  return m;
}

// Part of a copy that starts after `from` (the receiver changes its log only
// with the last part).
msg::room_replicate as_replicate(msg::room_import& part, uint64_t from, uint64_t after,
                                 bool last, const storage::room_meta& meta) {
  return msg::room_replicate{part.room,
                             after,
                             std::move(part.records),
                             storage::encode(meta),
                             std::move(part.receipt_users),
                             std::move(part.receipt_seqs),
                             from,
                             last};
}

// Every replica holds the log: the take-over is done.
template <class Self>
void finish(const takeover_ptr<Self>& t) {
  auto meta = t->own;
  meta.promised = t->ballot;
  meta.accepted = t->ballot;
  meta.commit = meta.seq;
  t->over = true;
  if (auto& m = t->nodes.metrics) {
    auto us = micros_since(t->started);
    m->takeovers.fetch_add(1, std::memory_order_relaxed);
    m->takeover_us_sum.fetch_add(us, std::memory_order_relaxed);
    auto max = m->takeover_us_max.load(std::memory_order_relaxed);
    while (us > max && !m->takeover_us_max.compare_exchange_weak(max, us))
      ;
  }
  t->done(meta);
}

caf::error fenced(const std::string& room) {
  return caf::make_error(errc::fenced, "room '" + room + "': a newer home took over");
}

// With the whole log in place (its own, or adopted), the new home records in
// its own store that its ballot wrote that log (`accepted`; no record is
// touched), as each replica will once synced: else a later take-over could
// prefer another node's stale tail to it.
template <class Self>
void accept_own(const takeover_ptr<Self>& t) {
  msg::room_prepare req{t->nodes.room, t->ballot.n, t->ballot.node};
  t->self->request(t->nodes.store, node_timeout, msg::accept_atom::value, req)
    .await(
      [t](msg::room_promise& p) {
        auto m = storage::decode_room_meta(p.meta);
        if (!p.ok || !m)
          return t->fail(fenced(t->nodes.room));
        t->own = std::move(*m);
        next_replica(t, 0);
      },
      [t](caf::error& err) {
        t->fail(err);
      });
}

// Replica i holds the whole log: from now on it is the new ballot's.
template <class Self>
void accept_replica(const takeover_ptr<Self>& t, size_t i) {
  msg::room_prepare req{t->nodes.room, t->ballot.n, t->ballot.node};
  t->self->request(t->nodes.replicas[i], node_timeout, msg::accept_atom::value, req)
    .await(
      [t, i](msg::room_promise& p) {
        if (!p.ok)
          return t->fail(fenced(t->nodes.room));
        next_replica(t, i + 1);
      },
      [t](caf::error&) {
        t->fail(unreachable(t->nodes.room, "a replica did not take the log"));
      });
}

template <class Self>
void next_replica(const takeover_ptr<Self>& t, size_t i) {
  if (i == t->nodes.replicas.size())
    return finish(t);
  // Where the replica's log is surely the same as ours: its commit point
  // (it was written under another ballot).
  uint64_t after = 0;
  for (size_t k = 0; k < t->nodes.peers.size(); ++k)
    if (t->nodes.peers[k] == t->nodes.replicas[i])
      after = t->promised[k + 1].commit;
  auto start = std::min(after, t->own.seq);
  sync_replica(t, i, start, start, 0);
}

// One part of the copy of our log after `start` onto replica i.
template <class Self>
void sync_replica(const takeover_ptr<Self>& t, size_t i, uint64_t start, uint64_t after,
                  int behind) {
  auto self = t->self;
  export_part(
    self, t->nodes.store, t->nodes.room, after,
    [t, i, start, after, behind](msg::room_import& part, uint64_t end, bool last) {
      auto meta = meta_after(part, t->ballot, t->source);
      if (!meta)
        return t->fail(caf::make_error(errc::storage_failed, "unreadable record in own log"));
      meta->commit = std::min(t->own.commit, meta->seq);
      if (auto& m = t->nodes.metrics)
        m->catchup_parts.fetch_add(1, std::memory_order_relaxed);
      t->self
        ->request(t->nodes.replicas[i], node_timeout,
                  as_replicate(part, start, after, last, *meta))
        .await(
          [t, i, start, end, last, behind](uint64_t seq) {
            if (seq != end) { // behind, or the copy must start again: from there
              if (behind + 1 >= max_behind)
                return t->fail(unreachable(t->nodes.room, "a replica stays behind"));
              return sync_replica(t, i, seq, seq, behind + 1);
            }
            if (!last)
              return sync_replica(t, i, start, end, 0);
            accept_replica(t, i);
          },
          [t](caf::error& err) {
            runtime::log_context cid{"room:" + t->nodes.room};
            spdlog::warn("room '{}': a replica did not take the log: {}", t->nodes.room,
                         t->self->system().render(err));
            t->fail(unreachable(t->nodes.room, "a replica did not take the log"));
          });
    },
    [t](caf::error& err) {
      t->fail(err);
    },
    true);
}

// Takes the best log after `start` in place of our own, one part (after
// `after`) at a time; our log changes with the last part only.
template <class Self>
void adopt(const takeover_ptr<Self>& t, msg::directory_actor from, uint64_t start,
           uint64_t after) {
  auto self = t->self;
  self->request(from, node_timeout, msg::room_pull{t->nodes.room, after})
    .await(
      [t, from, start, after](msg::room_import& part) {
        auto meta = meta_after(part, t->ballot, t->source);
        if (!meta)
          return t->fail(caf::make_error(errc::bad_argument, "undecodable pulled log"));
        auto full = part.records.size() == export_part_size;
        auto end = meta->seq;
        if (auto& m = t->nodes.metrics)
          m->adopted_records.fetch_add(part.records.size(), std::memory_order_relaxed);
        t->self
          ->request(t->nodes.store, node_timeout,
                    as_replicate(part, start, after, !full, *meta))
          .await(
            [t, from, start, full, end](uint64_t seq) {
              if (seq != end)
                return t->fail(caf::make_error(errc::storage_failed, "own log out of step"));
              if (full)
                return adopt(t, from, start, end);
              runtime::log_context cid{"room:" + t->nodes.room};
              spdlog::info("room '{}': took seq {}..{} from another node's log", t->nodes.room,
                           t->own.commit + 1, end);
              accept_own(t);
            },
            [t](caf::error& err) {
              t->fail(err);
            });
      },
      [t](caf::error&) {
        t->fail(unreachable(t->nodes.room, "the node with the best log did not answer"));
      });
}

template <class Self>
void promised_all(const takeover_ptr<Self>& t) {
  if (t->refused) {
    if (++t->round == max_rounds)
      return t->fail(unreachable(t->nodes.room, "other nodes keep promising newer ballots"));
    return prepare(t);
  }
  t->own = t->promised[0];
  // The best log (storage::newer_log): every log labelled with a writer's
  // ballot is a prefix of that writer's own log (a copy is labelled with the
  // new ballot only once whole), so the newest writer's longest one holds
  // every acked record.
  size_t best = 0;
  for (size_t k = 1; k < t->promised.size(); ++k)
    if (storage::newer_log(t->promised[k], t->promised[best]))
      best = k;
  t->source = t->promised[best].accepted;
  if (best == 0)
    return accept_own(t);
  auto start = std::min(t->own.commit, t->own.seq);
  adopt(t, t->nodes.peers[best - 1], start, start);
}

// A ballot's counter carries, in its high 32 bits, the membership log index
// of the member set its take-over counted (ADR 10): a ballot proposed under a
// newer member set beats every one proposed under an older set, so a node
// still counting the old members (it has not learned the change yet) can
// neither prepare a node that promised under the new set nor append there.
constexpr int epoch_shift = 32;

template <class Self>
void prepare(const takeover_ptr<Self>& t) {
  auto seen = std::max(t->highest_n, t->own.promised.n);
  auto seen_epoch = seen >> epoch_shift;
  // Someone took the room over under a member set this node has not learned:
  // a ballot from it would carry that newer set's index without counting its
  // members. The log reaches this node within a heartbeat; retry then. Unless
  // this node's log committed that index without a change there: the set was
  // appended by a leader that lost it (never in effect), and every real newer
  // set lies beyond the commit index, so its ballots still win (review).
  if (seen_epoch > t->nodes.epoch && seen_epoch > t->nodes.committed)
    return t->fail(unreachable(t->nodes.room, "a newer member set than this node's view took "
                                              "it over"));
  auto epoch = std::max(t->nodes.epoch, seen_epoch);
  t->ballot = storage::ballot{std::max(seen + 1, (epoch << epoch_shift) + 1),
                              proposer(t->nodes.node_id, t->self->id())};
  t->answers = 0;
  t->refused = false;
  t->promised.assign(t->nodes.peers.size() + 1, storage::room_meta{});
  msg::room_prepare req{t->nodes.room, t->ballot.n, t->ballot.node};
  auto ask = [&](size_t k, const auto& target) { // the typed store, or a directory
    t->self->request(target, node_timeout, req)
      .await(
        [t, k, round = t->round](msg::room_promise& p) {
          if (t->over || round != t->round)
            return;
          auto m = storage::decode_room_meta(p.meta);
          if (!m)
            return t->fail(caf::make_error(errc::bad_argument, "undecodable promise"));
          t->highest_n = std::max(t->highest_n, m->promised.n);
          t->refused |= !p.ok;
          t->promised[k] = std::move(*m);
          if (++t->answers == t->promised.size())
            promised_all(t);
        },
        [t](caf::error& err) {
          runtime::log_context cid{"room:" + t->nodes.room};
          spdlog::warn("room '{}': a node did not promise: {}", t->nodes.room,
                       t->self->system().render(err));
          t->fail(unreachable(t->nodes.room, "a node of the view did not answer"));
        });
  };
  ask(0, t->nodes.store);
  for (size_t k = 0; k < t->nodes.peers.size(); ++k)
    ask(k + 1, t->nodes.peers[k]);
}

} // namespace

template <class Self>
void take_over(Self self, room_nodes nodes, storage::room_meta own,
               std::function<void(storage::room_meta&)> done,
               std::function<void(const caf::error&)> failed) {
  auto t = std::make_shared<takeover<Self>>();
  t->self = self;
  t->nodes = std::move(nodes);
  t->own = std::move(own);
  t->done = std::move(done);
  t->failed = std::move(failed);
  prepare(t);
}

template void take_over(room::room_self, room_nodes, storage::room_meta,
                        std::function<void(storage::room_meta&)>,
                        std::function<void(const caf::error&)>);
template void take_over(caf::event_based_actor*, room_nodes, storage::room_meta,
                        std::function<void(storage::room_meta&)>,
                        std::function<void(const caf::error&)>);

void replicate(room::room_self self, const room_nodes& nodes, uint64_t after,
               const std::vector<storage::message_record>& records,
               const storage::room_meta& meta, std::function<void()> done,
               std::function<void(const caf::error&)> failed) {
  if (nodes.replicas.empty())
    return done();
  msg::room_replicate req{nodes.room, after, {}, storage::encode(meta), {}, {}, after, true};
  req.records.reserve(records.size());
  for (auto& rec : records)
    req.records.push_back(storage::encode(rec));
  struct progress {
    size_t left;
    bool over = false;
  };
  auto p = std::make_shared<progress>(progress{nodes.replicas.size()});
  auto metrics = nodes.metrics;
  auto lag = records.size();
  if (metrics)
    metrics->replica_lag_records.fetch_add(lag, std::memory_order_relaxed);
  auto fail = [p, failed, metrics, lag](const caf::error& err) {
    if (std::exchange(p->over, true))
      return;
    if (metrics) {
      metrics->replica_lag_records.fetch_sub(lag, std::memory_order_relaxed);
      (err == errc::fenced ? metrics->fenced : metrics->replica_failures)
        .fetch_add(1, std::memory_order_relaxed);
    }
    failed(err);
  };
  auto started = std::chrono::steady_clock::now();
  auto done_all = [done, metrics, started, lag] {
    if (metrics) {
      auto us = micros_since(started);
      metrics->replica_lag_records.fetch_sub(lag, std::memory_order_relaxed);
      metrics->replicated_batches.fetch_add(1, std::memory_order_relaxed);
      metrics->replicate_us_sum.fetch_add(us, std::memory_order_relaxed);
      metrics->replicate_us_last.store(us, std::memory_order_relaxed);
    }
    done();
  };
  auto end = meta.seq;
  auto room = nodes.room;
  for (auto& r : nodes.replicas)
    self->request(r, replicate_timeout, req)
      .then(
        [p, done_all, fail, end, room](uint64_t seq) {
          if (seq != end)
            return fail(caf::make_error(errc::room_unavailable,
                                        "room '" + room + "': a replica is behind"));
          if (--p->left == 0 && !p->over)
            done_all();
        },
        [fail](caf::error& err) {
          fail(err);
        });
}

} // namespace chat::actors
