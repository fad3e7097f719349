#include <algorithm>

#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/runtime/log.hpp"
#include "chat/runtime/throttled_log.hpp"
#include "room_state.hpp"

namespace chat::actors::room {

namespace {

// A room that cannot be activated ends, and the next command for it tries
// again: a client resending every few ms while its room is unavailable would
// otherwise log a line per attempt (one per room of every such client).
runtime::throttled_log cannot_write_log;
runtime::throttled_log cannot_take_over_log;

void load_receipts(room_self self, msg::receipt_list& xs) {
  for (auto& [user, seq] : xs)
    self->state.receipts[user] = seq;
  self->state.roster.receipts_changed();
}

} // namespace

void activate(room_self self) {
  auto& st = self->state;
  if (st.metrics)
    st.metrics->activations.fetch_add(1, std::memory_order_relaxed);
  // Nothing is handled before the room knows where its log stands.
  auto load_failed = [=](caf::error& err) {
    runtime::log_context cid{"room:" + self->state.room};
    spdlog::error("room '{}': cannot load: {}", self->state.room, self->system().render(err));
    self->quit(err);
  };
  // Awaited responses are handled last-requested first: the receipts, then
  // the meta, then the other nodes' logs after it.
  // In a cluster the room then takes its log over (ADR 8): the newest log of
  // the view, on every replica, under a ballot of its own.
  self->request(st.store, caf::infinite, msg::store_load{st.room})
    .await(
      [=](storage::room_meta& meta) {
        auto& st = self->state;
        st.meta = std::move(meta);
        st.nodes.room = st.room;
        st.nodes.node_id = st.node_id;
        st.nodes.store = st.store;
        st.nodes.metrics = st.metrics;
        // Asked also with no peer up: a cluster node that lost them all must
        // not write alone (the directory refuses then).
        self->request(st.directory, caf::infinite, msg::replicas_atom::value, st.room)
          .await(
            [=](msg::room_nodes_of& x) {
              auto& st = self->state;
              st.nodes.peers = std::move(x.peers);
              st.nodes.replicas = std::move(x.replicas);
              st.nodes.replica_ids = std::move(x.replica_ids);
              st.nodes.epoch = x.epoch;
              st.nodes.committed = x.committed;
              if (st.nodes.peers.empty())
                return; // a single node: nothing to take over
              take_over(
                self, st.nodes, st.meta,
                [=](storage::room_meta& m) {
                  self->state.meta = std::move(m);
                  // The log taken over may have brought receipts.
                  self
                    ->request(self->state.store, caf::infinite,
                              msg::store_load_receipts{self->state.room})
                    .await([=](msg::receipt_list& xs) {
                      load_receipts(self, xs);
                    });
                },
                [=](const caf::error& err) {
                  runtime::log_context cid{"room:" + self->state.room};
                  cannot_take_over_log.note("room '" + self->state.room
                                            + "': cannot take over: "
                                            + self->system().render(err));
                  self->quit(err);
                });
            },
            [=](caf::error& err) {
              runtime::log_context cid{"room:" + self->state.room};
              cannot_write_log.note("room '" + self->state.room
                                    + "': cannot write: " + self->system().render(err));
              self->quit(err);
            });
      },
      load_failed);
  self->request(st.store, caf::infinite, msg::store_load_receipts{st.room})
    .await(
      [=](msg::receipt_list& xs) {
        load_receipts(self, xs);
      },
      load_failed);
}

} // namespace chat::actors::room
