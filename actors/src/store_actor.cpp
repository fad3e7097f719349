#include "store_actor.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/messages.hpp"

namespace chat::actors {

namespace {

struct store_state {
  std::shared_ptr<storage::store> db;
  std::vector<storage::room_append> pending;
  std::vector<caf::response_promise> promises;
  bool flush_scheduled = false;
  msg::store_stats stats;
  static inline const char* name = "store";
};

using store_self = caf::stateful_actor<store_state>;

// Group commit: every append that is already in the mailbox when the first one
// is handled lands in the same WriteBatch, because the flush trigger is queued
// behind them. While a commit (fsync) runs, new appends queue up and form the
// next group, so the batch grows with the load.
void commit_pending(store_self* self) {
  auto& st = self->state;
  st.flush_scheduled = false;
  if (st.pending.empty())
    return;
  std::vector<storage::room_append_result> results;
  auto s = st.db->append_group(st.pending, results);
  if (!s.ok()) {
    spdlog::error("store: commit of {} room appends failed: {}", st.pending.size(), s.error);
    for (auto& rp : st.promises)
      rp.deliver(caf::make_error(errc::storage_failed));
  } else {
    st.stats.appends += st.pending.size();
    ++st.stats.commits;
    for (size_t i = 0; i < st.promises.size(); ++i)
      st.promises[i].deliver(std::move(results[i]));
  }
  st.pending.clear();
  st.promises.clear();
}

caf::behavior store_actor(store_self* self, std::shared_ptr<storage::store> db) {
  self->state.db = std::move(db);
  return {
    [=](msg::store_append& x) {
      auto& st = self->state;
      st.pending.emplace_back(std::move(x.req));
      st.promises.emplace_back(self->make_response_promise());
      if (!st.flush_scheduled) {
        st.flush_scheduled = true;
        self->send(self, msg::flush_atom::value);
      }
    },
    [=](msg::flush_atom) {
      commit_pending(self);
    },
    [=](msg::stats_atom) {
      return self->state.stats;
    },
    [=](msg::store_load& x) -> caf::result<storage::room_meta> {
      storage::room_meta meta;
      if (auto s = self->state.db->load_room(x.room, meta); !s.ok()) {
        spdlog::error("store: loading room '{}' failed: {}", x.room, s.error);
        return caf::make_error(errc::storage_failed);
      }
      return meta;
    },
    [=](msg::store_read& x) -> caf::result<msg::message_list> {
      msg::message_list out;
      auto& db = *self->state.db;
      auto s = x.has_after
                 ? db.read_after(x.room, x.after, x.limit, out)
                 : db.read_before(x.room, x.before == 0 ? UINT64_MAX : x.before, x.limit, out);
      if (!s.ok()) {
        spdlog::error("store: reading room '{}' failed: {}", x.room, s.error);
        return caf::make_error(errc::storage_failed);
      }
      return out;
    },
    [=](msg::shutdown_atom) -> caf::result<bool> {
      commit_pending(self);
      if (auto s = self->state.db->flush(); !s.ok()) {
        spdlog::error("store: final flush failed: {}", s.error);
        return false;
      }
      return true;
    },
  };
}

} // namespace

caf::actor spawn_store(caf::actor_system& sys, std::shared_ptr<storage::store> db) {
  return sys.spawn<caf::detached>(store_actor, std::move(db));
}

} // namespace chat::actors
