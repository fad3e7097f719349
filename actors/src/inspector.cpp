#include "inspector.hpp"
#include "inspector_state.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "directory_messages.hpp"
#include "room_messages.hpp"

namespace chat::actors {

bool parse_connection_id(const std::string& id, std::string& node, caf::actor_id& actor) {
  auto colon = id.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == id.size())
    return false;
  auto* first = id.data() + colon + 1;
  auto* last = id.data() + id.size();
  auto [end, ec] = std::from_chars(first, last, actor);
  if (ec != std::errc{} || end != last || actor == 0)
    return false;
  node = id.substr(0, colon);
  return true;
}

namespace inspection {

caf::error not_found(const std::string& what) {
  return caf::make_error(errc::not_found, what);
}

std::string connection_id(const std::string& node, const caf::actor& a) {
  return node + ":" + std::to_string(a.id());
}

// What a connection actor says of itself (see connection_actor.cpp).
struct actor_part {
  std::vector<std::string> rooms;
  uint64_t watching = 0;
  uint64_t queued = 0;
  uint64_t mailbox = 0;
};

void write_row(json_writer& w, const std::string& node, const connection_card& c,
               const actor_part& a, bool detailed) {
  w.begin_object().key("id").str(connection_id(node, c.actor));
  w.key("user").str(c.user).key("node").str(node).key("transport").str(c.transport);
  w.key("remote").str(c.remote).key("rooms").begin_array();
  for (auto& r : a.rooms)
    w.str(r);
  w.end_array().key("queued_bytes").num(a.queued).key("opened_at").num(c.opened_at);
  if (detailed) {
    // Tokens are fractional while they refill; the API shows whole commands
    // (null: the node does not rate limit commands).
    w.key("rate_tokens");
    c.rate_tokens < 0 ? w.raw("null") : w.num(static_cast<uint64_t>(c.rate_tokens));
    w.key("last_heartbeat").num(c.last_heartbeat).key("watching").num(a.watching);
    w.key("mailbox").num(a.mailbox);
  }
  w.end_object();
}

// One connection as a JSON object (the writer's top level is an object: the
// row is written as its one member and taken out).
std::string row_text(const std::string& node, const connection_card& c, const actor_part& a,
                     bool detailed) {
  json_writer w;
  w.key("c");
  write_row(w, node, c, a, detailed);
  auto text = std::string{w.finish().json()};
  return text.substr(5, text.size() - 6); // {"c":...}
}

// `cards`, each with what its connection actor says; `done` gets the rows
// (a connection whose actor stopped meanwhile is left out).
void with_actor_parts(
  inspector_self self, std::vector<connection_card> cards,
  std::function<void(std::vector<connection_card>&, std::vector<actor_part>&)> done) {
  struct gather {
    std::vector<connection_card> cards;
    std::vector<actor_part> parts;
    std::vector<bool> alive;
    size_t pending = 0;
  };
  auto g = std::make_shared<gather>();
  g->cards = std::move(cards);
  g->parts.resize(g->cards.size());
  g->alive.resize(g->cards.size(), true);
  g->pending = g->cards.size() + 1;
  auto one_done = [g, done] {
    if (--g->pending != 0)
      return;
    std::vector<connection_card> cards;
    std::vector<actor_part> parts;
    for (size_t i = 0; i < g->cards.size(); ++i)
      if (g->alive[i]) {
        cards.push_back(std::move(g->cards[i]));
        parts.push_back(std::move(g->parts[i]));
      }
    done(cards, parts);
  };
  for (size_t i = 0; i < g->cards.size(); ++i)
    self->request(g->cards[i].actor, actor_timeout, msg::inspect_atom::value)
      .then(
        [g, i, one_done](std::vector<std::string>& rooms, uint64_t watching, uint64_t queued,
                         uint64_t mailbox) {
          g->parts[i] = {std::move(rooms), watching, queued, mailbox};
          one_done();
        },
        [g, i, one_done](caf::error& err) {
          // A busy actor is listed without its part; a stopped one is gone.
          if (err != caf::sec::request_timeout)
            g->alive[i] = false;
          one_done();
        });
  one_done();
}

// The registry's cards for `actors` (none without a gateway), then `next`.
void describe(inspector_self self, std::vector<caf::actor> actors,
              std::function<void(std::vector<connection_card>&)> next) {
  auto registry = self->state.connections->get();
  if (!registry || actors.empty()) {
    std::vector<connection_card> none;
    return next(none);
  }
  auto key = ++self->state.next_key;
  self->state.pending.emplace(key, std::move(next));
  registry->describe(std::move(actors), [me = caf::actor_cast<caf::actor>(self),
                                         key](std::vector<connection_card> xs) {
    caf::anon_send(me, msg::cards_atom::value, key, std::move(xs));
  });
}

std::vector<caf::actor> pick(inspector_self self, const std::string& user, caf::actor_id after,
                             size_t limit) {
  auto registry = self->state.connections->get();
  return registry ? registry->pick(user, after, limit) : std::vector<caf::actor>{};
}

// This node's share of a list: the connections among the first `limit` after
// `after` that are still open once described, the last actor id looked at, and
// whether there is nothing after it. A connection that closes meanwhile is
// left out, so a share may hold fewer rows than it looked at: the page must
// then go on from `last` on this node, not from the next node (review).
caf::result<std::vector<std::string>, std::vector<std::string>, uint64_t, bool>
node_rows(inspector_self self, const std::string& user, caf::actor_id after, uint32_t limit) {
  auto rp = self->make_response_promise<std::vector<std::string>, std::vector<std::string>,
                                        uint64_t, bool>();
  // One more than the page: whether anything follows.
  auto picked = pick(self, user, after, size_t{limit} + 1);
  bool exhausted = picked.size() <= limit;
  if (!exhausted)
    picked.resize(limit);
  uint64_t last = picked.empty() ? after : picked.back().id();
  describe(self, std::move(picked), [=](std::vector<connection_card>& cards) mutable {
    with_actor_parts(
      self, std::move(cards),
      [=](std::vector<connection_card>& cs, std::vector<actor_part>& ps) mutable {
        std::vector<std::string> ids;
        std::vector<std::string> rows;
        for (size_t i = 0; i < cs.size(); ++i) {
          ids.push_back(connection_id(self->state.node_id, cs[i].actor));
          rows.push_back(row_text(self->state.node_id, cs[i], ps[i], false));
        }
        rp.deliver(std::move(ids), std::move(rows), last, exhausted);
      });
  });
  return rp;
}

// Calls `found` with the inspector of `node` (this one's, or asked of the
// node's directory), or `failed`.
void with_inspector(inspector_self self, const std::string& node,
                    std::function<void(const caf::actor&)> found,
                    std::function<void(caf::error)> failed) {
  auto& st = self->state;
  if (node == st.node_id)
    return found(caf::actor_cast<caf::actor>(self));
  if (auto i = st.inspectors.find(node); i != st.inspectors.end())
    return found(i->second);
  auto d = st.directories.find(node);
  if (d == st.directories.end())
    return failed(not_found("no node '" + node + "' is up in this cluster"));
  self->request(d->second, lookup_timeout, msg::summary_atom::value)
    .then(
      [=](msg::node_summary& s) {
        if (!s.inspector)
          return failed(not_found("node '" + node + "' has no inspector"));
        self->state.inspectors[node] = s.inspector;
        found(s.inspector);
      },
      [=](caf::error& err) {
        failed(err);
      });
}

// Runs `here` on the node the connection id names (asking that node's
// inspector with the same request when it is another).
caf::result<frame> ask_node(inspector_self self, const std::string& node, caf::message request);

// A node's silence said as such (error_frame would call it a room's).
caf::error unanswered(const std::string& node, const caf::error& err) {
  if (err == caf::sec::request_timeout || err == caf::sec::request_receiver_down)
    return caf::make_error(errc::room_unavailable,
                           "node '" + node + "' did not answer in time; retry");
  return err;
}

template <class Here>
caf::result<frame> on_connection_node(inspector_self self, const std::string& id,
                                      caf::message request, Here here) {
  std::string node;
  caf::actor_id actor = 0;
  if (!parse_connection_id(id, node, actor))
    return not_found("no connection '" + id + "' (an id is <node>:<number>)");
  if (node == self->state.node_id)
    return here(actor);
  return ask_node(self, node, std::move(request));
}

// `request` asked of the inspector of `node`, its frame the answer.
caf::result<frame> ask_node(inspector_self self, const std::string& node,
                            caf::message request) {
  auto rp = self->make_response_promise<frame>();
  with_inspector(
    self, node,
    [=](const caf::actor& other) mutable {
      self->request(other, node_timeout, request)
        .then(
          [=](frame& f) mutable {
            rp.deliver(std::move(f));
          },
          [=](caf::error& err) mutable {
            // A node restarted under the same id has a new inspector: look
            // it up again next time.
            self->state.inspectors.erase(node);
            rp.deliver(unanswered(node, err));
          });
    },
    [=](caf::error err) mutable {
      rp.deliver(unanswered(node, err));
    });
  return rp;
}

caf::result<frame> one_connection(inspector_self self, const std::string& id,
                                  caf::actor_id actor) {
  auto found = pick(self, "", actor - 1, 1);
  if (found.empty() || found.front().id() != actor)
    return not_found("no connection '" + id + "'");
  auto rp = self->make_response_promise<frame>();
  describe(self, std::move(found), [=](std::vector<connection_card>& cards) mutable {
    with_actor_parts(
      self, std::move(cards),
      [=](std::vector<connection_card>& cs, std::vector<actor_part>& ps) mutable {
        if (cs.empty())
          rp.deliver(not_found("no connection '" + id + "'"));
        else
          rp.deliver(frame::from_json(row_text(self->state.node_id, cs[0], ps[0], true)));
      });
  });
  return rp;
}

caf::result<frame> kick(inspector_self self, const std::string& id, caf::actor_id actor) {
  auto registry = self->state.connections->get();
  if (!registry || !registry->close(actor))
    return not_found("no connection '" + id + "'");
  return ok_event("");
}

// A page of the cluster's connections, ordered by node id, then actor id.
caf::result<frame> list(inspector_self self, const std::string& user, const std::string& node,
                        const std::string& cursor, uint32_t limit) {
  auto& st = self->state;
  std::vector<std::string> nodes;
  if (!node.empty()) {
    if (node != st.node_id && st.directories.count(node) == 0)
      return not_found("no node '" + node + "' is up in this cluster");
    nodes.push_back(node);
  } else {
    for (auto& [id, dir] : st.directories)
      nodes.push_back(id);
    if (std::find(nodes.begin(), nodes.end(), st.node_id) == nodes.end())
      nodes.push_back(st.node_id);
    std::sort(nodes.begin(), nodes.end());
  }
  std::string after_node;
  caf::actor_id after = 0;
  if (!cursor.empty() && !parse_connection_id(cursor, after_node, after))
    return caf::make_error(errc::bad_argument,
                           "'cursor' must be the 'next' of an earlier page");
  if (!cursor.empty())
    nodes.erase(std::remove_if(nodes.begin(), nodes.end(),
                               [&](const std::string& n) {
                                 return n < after_node;
                               }),
                nodes.end());
  struct share {
    std::vector<std::string> ids;
    std::vector<std::string> rows;
    uint64_t last = 0;      ///< the last actor id the node looked at
    bool exhausted = false; ///< nothing after `last` there
    bool answered = false;
  };
  struct gather {
    std::vector<share> shares; ///< by position in `nodes`
    size_t pending = 0;
  };
  auto g = std::make_shared<gather>();
  g->shares.resize(nodes.size());
  g->pending = nodes.size() + 1;
  auto rp = self->make_response_promise<frame>();
  auto one_done = [g, rp, limit, nodes]() mutable {
    if (--g->pending != 0)
      return;
    // Rows in node order until the page is full; a node whose share ended
    // before its connections did ends the page there (the next one goes on
    // after the last connection it looked at). A node that did not answer is
    // skipped and named in `partial`.
    json_writer w;
    w.key("connections").begin_array();
    size_t n = 0;
    std::string last_written;
    std::string next;
    std::vector<std::string> partial;
    for (size_t k = 0; k < g->shares.size() && next.empty(); ++k) {
      auto& s = g->shares[k];
      if (!s.answered) {
        partial.push_back(nodes[k]);
        continue;
      }
      for (size_t i = 0; i < s.rows.size() && next.empty(); ++i) {
        if (n == limit) {
          next = last_written;
          break;
        }
        w.raw(s.rows[i]);
        last_written = s.ids[i];
        ++n;
      }
      if (next.empty() && !s.exhausted)
        next = nodes[k] + ":" + std::to_string(s.last);
    }
    w.end_array().key("next");
    next.empty() ? w.raw("null") : w.str(next);
    if (!partial.empty()) {
      w.key("partial").begin_array();
      for (auto& p : partial)
        w.str(p);
      w.end_array();
    }
    rp.deliver(w.finish());
  };
  for (size_t k = 0; k < nodes.size(); ++k) {
    auto from = nodes[k] == after_node ? after : caf::actor_id{0};
    auto ask = caf::make_message(msg::node_conns_atom::value, user, uint64_t{from}, limit);
    auto node = nodes[k];
    with_inspector(
      self, node,
      [=](const caf::actor& other) mutable {
        self->request(other, node_timeout, ask)
          .then(
            [=](std::vector<std::string>& ids, std::vector<std::string>& rows, uint64_t last,
                bool exhausted) mutable {
              g->shares[k] = {std::move(ids), std::move(rows), last, exhausted, true};
              one_done();
            },
            [=](caf::error&) mutable {
              self->state.inspectors.erase(node); // asked again next time
              one_done();
            });
      },
      [=](caf::error) mutable {
        one_done();
      });
  }
  one_done();
  return rp;
}

caf::behavior inspector(inspector_self self, std::string node_id,
                        std::shared_ptr<connection_registry_slot> connections) {
  self->state.node_id = std::move(node_id);
  self->state.connections = std::move(connections);
  return {
    [=](msg::conns_atom, const std::string& user, const std::string& node,
        const std::string& cursor, uint32_t limit) {
      return list(self, user, node, cursor, limit);
    },
    [=](msg::node_conns_atom, const std::string& user, uint64_t after, uint32_t limit) {
      return node_rows(self, user, after, limit);
    },
    [=](msg::conn_atom, const std::string& id) {
      auto request = caf::make_message(msg::conn_atom::value, id);
      return on_connection_node(self, id, request, [=](caf::actor_id actor) {
        return one_connection(self, id, actor);
      });
    },
    [=](msg::kick_atom, const std::string& id) {
      auto request = caf::make_message(msg::kick_atom::value, id);
      return on_connection_node(self, id, request, [=](caf::actor_id actor) {
        return kick(self, id, actor);
      });
    },
    [=](msg::actors_atom, const std::string& kind, caf::actor& a) {
      if (kind == "membership")
        self->state.membership = std::move(a);
    },
    [=](msg::actors_atom, caf::actor& directory, caf::actor& store) {
      self->state.directory = std::move(directory);
      self->state.store = std::move(store);
    },
    [=](msg::actors_atom, const std::string& node) -> caf::result<frame> {
      if (node.empty() || node == self->state.node_id)
        return actor_kinds(self);
      return ask_node(self, node, caf::make_message(msg::actors_atom::value, node));
    },
    [=](msg::cards_atom, uint64_t key, std::vector<connection_card>& cards) {
      auto i = self->state.pending.find(key);
      if (i == self->state.pending.end())
        return;
      auto next = std::move(i->second);
      self->state.pending.erase(i);
      next(cards);
    },
    [=](msg::cluster_view& v) {
      auto& st = self->state;
      st.directories.clear();
      st.inspectors.clear(); // a node that came back has a new inspector
      for (size_t i = 0; i < v.nodes.size() && i < v.directories.size(); ++i)
        if (v.nodes[i] != st.node_id)
          st.directories.emplace(v.nodes[i], v.directories[i]);
    },
  };
}

} // namespace inspection

caf::actor spawn_inspector(caf::actor_system& sys, std::string node_id,
                           std::shared_ptr<connection_registry_slot> connections) {
  return sys.spawn(inspection::inspector, std::move(node_id), std::move(connections));
}

} // namespace chat::actors
