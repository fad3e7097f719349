#include <algorithm>

#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/runtime/clock.hpp"
#include "chat/runtime/log.hpp"
#include "room_replication.hpp"
#include "room_state.hpp"

// A room's writes: posts batched into one append in flight, the append
// replicated before the acks, then the fan-out of the stored messages.

namespace chat::actors::room {

namespace {

/// Posts waiting for the next commit of one room before new ones are shed.
constexpr size_t max_pending_posts = 10000;

void commit_pending(room_self self);
void committed(room_self self, std::vector<pending_post>& batch,
               storage::room_append_result& res);
void step_down(room_self self, std::vector<pending_post>& batch, const caf::error& err);

void on_committed(room_self self, std::vector<pending_post>& batch,
                  storage::room_append_result& res) {
  auto& st = self->state;
  st.meta = std::move(res.meta);
  size_t remote = 0;
  for (auto& [addr, r] : st.relays)
    remote += addr.node() != self->node() ? 1 : 0;
  auto& m = *st.metrics;
  m.room_messages.fetch_add(res.stored.size(), std::memory_order_relaxed);
  m.relay_messages_remote.fetch_add(res.stored.size() * remote, std::memory_order_relaxed);
  m.relay_messages_local.fetch_add(res.stored.size() * (st.relays.size() - remote),
                                   std::memory_order_relaxed);
  // Acks after the counters: a client that reads /metrics after its ack sees its message.
  auto now = runtime::wall_us();
  for (size_t i = 0; i < batch.size(); ++i) {
    m.send_ack_us.observe(
      static_cast<uint64_t>(std::max<int64_t>(now - batch[i].received_us, 0)));
    batch[i].promise.deliver(msg::post_result{res.outcomes[i].seq, res.outcomes[i].dup});
  }
  if (res.stored.empty())
    return;
  msg::relay_msg out;
  out.frames.reserve(res.stored.size());
  size_t k = 0; // the post each stored record came from (outcomes are in batch order)
  for (auto& rec : res.stored) {
    while (k < batch.size() && (res.outcomes[k].dup || res.outcomes[k].seq < rec.seq))
      ++k;
    auto received =
      k < batch.size() && res.outcomes[k].seq == rec.seq ? batch[k].received_us : 0;
    auto f = message_event(st.room, rec);
    st.recent.push(rec.seq, f);
    out.frames.push_back(msg::seq_frame{rec.seq, std::move(f), received});
  }
  // The frames are shared (reference counted): every relay gets the same bytes.
  for (auto& [addr, r] : st.relays)
    self->send(r.relay, out);
}

// One append in flight per room: the next batch is formed from whatever posts
// arrived during the commit, which keeps the log gap-free and in arrival order.
void commit_pending(room_self self) {
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
        if (res.fenced) {
          self->state.metrics->fenced.fetch_add(1, std::memory_order_relaxed);
          return step_down(self, *batch,
                           caf::make_error(errc::fenced, "room '" + self->state.room
                                                           + "': a newer home took over"));
        }
        auto& st = self->state;
        if (res.stored.empty())
          return committed(self, *batch, res);
        // Acked only once every replica holds it (ADR 8).
        auto r = std::make_shared<storage::room_append_result>(std::move(res));
        r->meta.commit = st.meta.commit;
        replicate(
          self, st.nodes, r->stored.front().seq - 1, r->stored, r->meta,
          [=] {
            r->meta.commit = r->meta.seq;
            committed(self, *batch, *r);
          },
          [=](const caf::error& err) {
            step_down(self, *batch, err);
          });
      },
      [=](caf::error& err) {
        for (auto& p : *batch)
          p.promise.deliver(err);
        self->state.in_flight = false;
        commit_pending(self);
        finish_move(self);
      });
}

void committed(room_self self, std::vector<pending_post>& batch,
               storage::room_append_result& res) {
  on_committed(self, batch, res);
  self->state.in_flight = false;
  commit_pending(self);
  finish_move(self);
}

// The room cannot be sure its log is kept (a replica refused or is gone): it
// acks nothing more and stops; the next request activates it again, which
// takes the room over afresh. Unacked posts are resent by their clients.
void step_down(room_self self, std::vector<pending_post>& batch, const caf::error& err) {
  auto& st = self->state;
  runtime::log_context cid{"room:" + st.room};
  spdlog::warn("room '{}': stops writing: {}", st.room, self->system().render(err));
  for (auto& p : batch)
    p.promise.deliver(err);
  for (auto& p : st.pending)
    p.promise.deliver(err);
  st.pending.clear();
  if (st.moving)
    st.moved.deliver(true);
  self->quit(err);
}

} // namespace

// A moving room stops once nothing it accepted is still uncommitted.
void finish_move(room_self self) {
  auto& st = self->state;
  if (!st.moving || st.in_flight || !st.pending.empty())
    return;
  st.moved.deliver(true);
  self->quit();
}

caf::result<msg::post_result> post(room_self self, msg::room_post& x) {
  auto& st = self->state;
  if (st.moving)
    return caf::make_error(errc::room_unavailable,
                           "room '" + st.room + "' is moving to another node");
  // High-water mark: shed instead of queueing without bound. Sends are
  // idempotent, so the client retries with the same id.
  if (st.pending.size() >= max_pending_posts)
    return caf::make_error(errc::overloaded, "room '" + st.room + "' is overloaded");
  auto rp = self->make_response_promise<msg::post_result>();
  st.pending.push_back(
    pending_post{storage::append_entry{std::move(x.id), std::move(x.user), runtime::wall_ms(),
                                       std::move(x.body)},
                 rp, runtime::wall_us()});
  commit_pending(self);
  return rp;
}

} // namespace chat::actors::room
