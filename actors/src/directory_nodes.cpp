#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "chat/actors/events.hpp"
#include "chat/actors/mailbox.hpp"
#include "chat/runtime/histogram.hpp"
#include "directory_state.hpp"

// The admin API's node list (docs/protocol.md, "Admin API"): the view says who
// the members are, up or down, and the membership log's index of that member
// set (the view number); each node up says what it hosts.

namespace chat::actors::directory {

namespace {

/// A node's summary waits this long: one silent node must not hold the list.
constexpr auto summary_timeout = std::chrono::seconds(1);

struct node_row {
  std::string cluster;
  std::string status;
  std::optional<msg::node_summary> summary;
};

struct node_gather {
  std::string self;
  uint64_t view = 0;
  std::map<std::string, node_row> rows; ///< by node id
  size_t pending = 0;
};

frame nodes_frame(const node_gather& g) {
  json_writer w;
  w.key("self").str(g.self).key("view").num(g.view).key("nodes").begin_array();
  for (auto& [id, row] : g.rows) {
    w.begin_object().key("id").str(id);
    auto text_or_null = [&](const char* key, const std::string& v) {
      w.key(key);
      v.empty() ? w.raw("null") : w.str(v);
    };
    text_or_null("http", row.summary ? row.summary->http : std::string{});
    text_or_null("cluster", row.cluster);
    w.key("status").str(row.summary ? row.summary->status : row.status);
    if (row.summary) {
      auto& s = *row.summary;
      w.key("connections").num(s.connections).key("rooms").num(s.rooms);
      w.key("messages").num(s.messages).key("deliveries").num(s.deliveries);
      w.key("delivery_histogram").begin_array();
      for (auto n : s.delivery)
        w.num(n);
      w.end_array();
    } else {
      w.key("connections").raw("null").key("rooms").raw("null");
      w.key("messages").raw("null").key("deliveries").raw("null");
      w.key("delivery_histogram").raw("null");
    }
    w.end_object();
  }
  w.end_array();
  // The bounds of every node's delivery_histogram (the last count is +Inf).
  w.key("delivery_bounds_us").begin_array();
  for (auto b : runtime::histogram::latency_us())
    w.num(b);
  w.end_array();
  return w.finish();
}

} // namespace

msg::node_summary summary(directory_self self, const directory_options& opts) {
  auto& st = self->state;
  auto& m = *opts.metrics;
  return {st.node_id,
          st.http,
          st.leaving   ? "leaving"
          : st.joining ? "joining"
                       : "up",
          m.connections.load(std::memory_order_relaxed),
          st.rooms.size(),
          opts.inspector,
          m.room_messages.load(std::memory_order_relaxed),
          m.deliveries.load(std::memory_order_relaxed),
          m.delivery_us.read().cumulative};
}

std::tuple<msg::actor_handles, msg::actor_handles, msg::actor_handles, uint64_t, frame>
kept_actors(directory_self self, const directory_options& opts) {
  auto& st = self->state;
  msg::actor_handles rooms;
  msg::actor_handles relays;
  msg::actor_handles shards;
  for (auto& [name, a] : st.rooms)
    rooms.push_back(caf::actor_cast<caf::actor>(a));
  for (auto& [name, a] : st.relays)
    relays.push_back(caf::actor_cast<caf::actor>(a));
  for (auto& a : st.presence)
    if (a)
      shards.push_back(caf::actor_cast<caf::actor>(a));
  auto strings = [](json_writer& w, const char* key, const auto& xs) {
    w.key(key).begin_array();
    for (auto& x : xs)
      w.str(x);
    w.end_array();
  };
  json_writer w;
  strings(w, "ring", st.ring.nodes());
  w.key("replication").num(uint64_t{opts.replication});
  w.key("view").num(st.view.epoch).key("committed").num(st.view.committed);
  w.key("members").num(uint64_t{st.view.members});
  w.key("copies").num(uint64_t{st.view.copies});
  strings(w, "up", st.view.nodes);
  strings(w, "down", st.view.down);
  strings(w, "leaving_nodes", st.leaving_nodes);
  w.key("joining").boolean(st.joining).key("leaving").boolean(st.leaving);
  w.key("held").num(uint64_t{st.held.size()});
  return {std::move(rooms), std::move(relays), std::move(shards), mailbox_backlog(self),
          w.finish()};
}

caf::result<frame> list_nodes(directory_self self, const directory_options& opts) {
  auto& st = self->state;
  auto g = std::make_shared<node_gather>();
  g->self = st.node_id;
  g->view = st.view.epoch;
  auto& v = st.view;
  for (size_t i = 0; i < v.nodes.size(); ++i)
    g->rows[v.nodes[i]] = {i < v.endpoints.size() ? v.endpoints[i] : "", "up", std::nullopt};
  for (size_t i = 0; i < v.down.size(); ++i)
    g->rows[v.down[i]] = {i < v.down_endpoints.size() ? v.down_endpoints[i] : "", "down",
                          std::nullopt};
  for (auto& id : st.leaving_nodes)
    if (auto r = g->rows.find(id); r != g->rows.end())
      r->second.status = "leaving";
  g->rows[st.node_id].summary = summary(self, opts);
  auto rp = self->make_response_promise<frame>();
  g->pending = st.peers.size();
  if (g->pending == 0)
    rp.deliver(nodes_frame(*g));
  auto one_done = [g, rp]() mutable {
    if (--g->pending == 0)
      rp.deliver(nodes_frame(*g));
  };
  for (auto& [id, dir] : st.peers)
    self->request(dir, summary_timeout, msg::summary_atom::value)
      .then(
        [g, one_done](msg::node_summary& s) mutable {
          auto id = s.node_id;
          g->rows[id].summary = std::move(s);
          one_done();
        },
        [one_done](caf::error&) mutable {
          one_done(); // listed from the view, without its numbers
        });
  return rp;
}

} // namespace chat::actors::directory
