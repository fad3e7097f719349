#include <algorithm>
#include <limits>
#include <memory>

#include "chat/actors/events.hpp"
#include "chat/actors/mailbox.hpp"
#include "directory_messages.hpp"
#include "inspector_state.hpp"
#include "room_messages.hpp"
#include "store_messages.hpp"

// The admin API's actors of one node (docs/protocol.md, "Admin API"): each
// kind with how many there are and the largest mailbox among them now, asked
// of every actor (an actor that does not answer within a second counts, its
// mailbox not); and the store's state, RocksDB's included.

namespace chat::actors::inspection {

namespace {

struct kind_row {
  const char* kind;
  uint64_t count = 0;
  uint64_t mailbox_max = 0;
};

struct kinds_gather {
  std::string node;
  std::vector<kind_row> kinds;
  std::optional<msg::store_stats> store;
  std::optional<frame> directory;  ///< the directory's state (JSON)
  std::optional<frame> membership; ///< the membership's state (JSON), in a cluster
  size_t pending = 1;              ///< this call's own share, done last
  caf::typed_response_promise<frame> rp;

  void note(size_t k, uint64_t mailbox) {
    kinds[k].mailbox_max = std::max(kinds[k].mailbox_max, mailbox);
  }

  frame finish() const {
    json_writer w;
    w.key("node").str(node).key("kinds").begin_array();
    for (auto& k : kinds) {
      w.begin_object().key("kind").str(k.kind).key("count").num(k.count);
      w.key("mailbox_max").num(k.mailbox_max).end_object();
    }
    w.end_array().key("directory");
    directory ? w.raw(directory->json()) : w.raw("null");
    w.key("membership");
    membership ? w.raw(membership->json()) : w.raw("null");
    w.key("store");
    if (!store) {
      w.raw("null");
      return w.finish();
    }
    w.begin_object().key("pending").num(store->pending).key("appends").num(store->appends);
    w.key("commits").num(store->commits).key("failing").boolean(store->failing);
    // Since the node started: the mean, and the bucket bound the 99th
    // percentile falls under (chat_store_commit_seconds).
    w.key("commit_mean_us").num(store->commit_mean_us);
    w.key("commit_p99_us").num(store->commit_p99_us);
    w.key("rocksdb").begin_object().key("properties").begin_object();
    for (auto& [name, v] : store->properties)
      w.key(name).num(v);
    w.end_object().key("stats").str(store->rocksdb_stats).end_object().end_object();
    return w.finish();
  }
};

enum kind_index : size_t {
  connection,
  room,
  relay,
  presence,
  store,
  directory,
  inspector,
  membership
};

} // namespace

caf::result<frame> actor_kinds(inspector_self self) {
  auto& st = self->state;
  auto g = std::make_shared<kinds_gather>();
  g->node = st.node_id;
  g->kinds = {{"connection"}, {"room"},         {"relay"},       {"presence_shard"},
              {"store", 1},   {"directory", 1}, {"inspector", 1}};
  g->note(inspector, mailbox_backlog(self));
  g->rp = self->make_response_promise<frame>();
  auto done = [g] {
    if (--g->pending == 0)
      g->rp.deliver(g->finish());
  };
  if (st.membership) {
    g->kinds.push_back({"membership", 1});
    ++g->pending;
    self->request(st.membership, actor_timeout, msg::inspect_atom::value)
      .then(
        [=](uint64_t mailbox, frame& state) {
          g->note(membership, mailbox);
          g->membership = std::move(state);
          done();
        },
        [=](caf::error&) {
          done();
        });
  }
  // Asks each of `actors` for its mailbox (`ask` makes the request) into `k`.
  auto each = [=](size_t k, const msg::actor_handles& actors, auto ask) {
    g->kinds[k].count = actors.size();
    for (auto& a : actors) {
      ++g->pending;
      ask(a).then(
        [=](uint64_t mailbox) {
          g->note(k, mailbox);
          done();
        },
        [=](caf::error&) {
          done();
        });
    }
  };
  auto connections = pick(self, "", 0, std::numeric_limits<size_t>::max());
  g->kinds[connection].count = connections.size();
  for (auto& c : connections) {
    ++g->pending;
    self->request(c, actor_timeout, msg::inspect_atom::value)
      .then(
        [=](std::vector<std::string>&, uint64_t, uint64_t, uint64_t mailbox) {
          g->note(connection, mailbox);
          done();
        },
        [=](caf::error&) {
          done();
        });
  }
  auto mailbox_of = [=](const caf::actor& a) {
    return self->request(a, actor_timeout, msg::inspect_atom::value, msg::mailbox_atom::value);
  };
  if (st.directory) {
    ++g->pending;
    self->request(st.directory, actor_timeout, msg::actors_atom::value)
      .then(
        [=](msg::actor_handles& rooms, msg::actor_handles& relays, msg::actor_handles& shards,
            uint64_t mailbox, frame& state) {
          g->note(directory, mailbox);
          g->directory = std::move(state);
          g->kinds[room].count = rooms.size();
          for (auto& r : rooms) {
            ++g->pending;
            self->request(r, actor_timeout, msg::inspect_atom::value, msg::summary_atom::value)
              .then(
                [=](msg::room_summary& s) {
                  g->note(room, s.mailbox);
                  done();
                },
                [=](caf::error&) {
                  done();
                });
          }
          each(relay, relays, mailbox_of);
          each(presence, shards, mailbox_of);
          done();
        },
        [=](caf::error&) {
          done();
        });
  }
  if (st.store) {
    ++g->pending;
    self->request(st.store, actor_timeout, msg::stats_atom::value)
      .then(
        [=](msg::store_stats& s) {
          g->note(store, s.mailbox);
          g->store = std::move(s);
          done();
        },
        [=](caf::error&) {
          done();
        });
  }
  done();
  return g->rp;
}

} // namespace chat::actors::inspection
