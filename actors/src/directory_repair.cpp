// The repair (rooms back onto R copies among the nodes up) and the removal of a
// member gone for good, which repairs without it first (ADR 8, ADR 10).
#include <algorithm>
#include <functional>
#include <memory>

#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/runtime/clock.hpp"
#include "directory_state.hpp"
#include "handover.hpp"

namespace chat::actors::directory {

namespace {

/// A repair asks each stored room's home once, one room at a time (a
/// take-over each, bounded by its own timeouts): long for many rooms, but
/// never forever.
constexpr auto repair_timeout = std::chrono::seconds(3600);
/// A removal's repairs answer within this long (the admin API waits 600 s).
constexpr auto removal_repair_timeout = std::chrono::seconds(540);
/// How long a node's view and its membership actor have to answer a removal,
/// and how long the membership log has to commit it.
constexpr auto removal_ask_timeout = std::chrono::seconds(5);
constexpr auto removal_commit_timeout = std::chrono::seconds(30);
/// A fence outlives any removal that set it (a node that asked and died).
constexpr int64_t fence_ms = 900'000;

caf::error refused(const std::string& why) {
  return caf::make_error(errc::bad_argument, why);
}

// One removal in flight: the nodes up when it began (this one first).
struct removal {
  std::string id;
  caf::typed_response_promise<frame> rp;
  std::vector<std::pair<std::string, msg::directory_actor>> nodes;
  size_t pending = 0;
  uint64_t rooms = 0;
  bool over = false;
};
using removal_ptr = std::shared_ptr<removal>;

// Every node of the removal lifts its fence (a node that does not answer
// lets it expire).
void lift_fences(directory_self self, const removal& r) {
  for (auto& [node, dir] : r.nodes)
    self->request(dir, removal_ask_timeout, msg::gone_atom::value, r.id, false)
      .then([](bool) {}, [](caf::error&) {});
}

// The removal failed: every node lifts its fence (the member may be used again
// once it is up), and the admin gets the reason.
void abort_removal(directory_self self, const removal_ptr& r, const caf::error& err) {
  if (r->over)
    return;
  r->over = true;
  lift_fences(self, *r);
  spdlog::warn("remove: node '{}' was not removed: {}", r->id, self->system().render(err));
  r->rp.deliver(err);
}

// Asks every node of the removal `ask(dir)`; `next` runs once all answered
// true. A false or an error aborts with the reason `why(node)`.
template <class Ask, class Next>
void on_every_node(directory_self self, removal_ptr r, Ask ask, Next next,
                   std::function<std::string(const std::string&)> why) {
  r->pending = r->nodes.size();
  for (auto& [node, dir] : r->nodes)
    ask(dir).then(
      [=, node = node](bool ok) {
        if (r->over)
          return;
        if (!ok)
          return abort_removal(self, r, refused(why(node)));
        if (--r->pending == 0)
          next();
      },
      [=, node = node](caf::error& err) {
        abort_removal(self, r,
                      caf::make_error(errc::room_unavailable,
                                      "node '" + node + "': " + self->system().render(err)));
      });
}

// Step 4: the membership log removes the member; answered once it committed.
void remove_from_log(directory_self self, removal_ptr r) {
  auto& st = self->state;
  self->request(st.view.membership, removal_commit_timeout, msg::remove_atom::value, r->id)
    .then(
      [=](bool) {
        if (r->over)
          return;
        r->over = true;
        spdlog::warn("remove: node '{}' was removed from the cluster ({} room(s) repaired "
                     "without it)",
                     r->id, r->rooms);
        lift_fences(self, *r); // it is no member any more: nothing to fence
        json_writer w;
        w.key("removed").str(r->id).key("rooms").num(r->rooms);
        r->rp.deliver(w.finish());
      },
      [=](caf::error& err) {
        abort_removal(self, r, err);
      });
}

// Step 3: still fenced everywhere, and no node joined meanwhile (it would
// not be fenced): else a room may have been placed on the member again.
void confirm_and_remove(directory_self self, removal_ptr r) {
  auto& st = self->state;
  if (st.peers.size() + 1 != r->nodes.size()
      || std::any_of(st.peers.begin(), st.peers.end(), [&](auto& kv) {
           return std::none_of(r->nodes.begin(), r->nodes.end(), [&](auto& n) {
             return n.first == kv.first;
           });
         }))
    return abort_removal(self, r,
                         caf::make_error(errc::room_unavailable,
                                         "the nodes up changed during the removal; try again"));
  on_every_node(
    self, r,
    [=](const msg::directory_actor& dir) {
      return self->request(dir, removal_ask_timeout, msg::gone_atom::value, r->id);
    },
    [=] {
      remove_from_log(self, r);
    },
    [=](const std::string& node) {
      return "node '" + r->id + "' is no longer down in node '" + node + "''s view";
    });
}

// Step 2: every node up puts the rooms it stores onto copies without the member.
void repair_all_without(directory_self self, removal_ptr r) {
  r->pending = r->nodes.size();
  for (auto& [node, dir] : r->nodes)
    self->request(dir, removal_repair_timeout, msg::repair_atom::value, r->id)
      .then(
        [=, node = node](uint64_t rooms, uint64_t repaired) {
          if (r->over)
            return;
          if (repaired < rooms)
            return abort_removal(self, r,
                                 caf::make_error(errc::room_unavailable,
                                                 "node '" + node
                                                   + "': " + std::to_string(rooms - repaired)
                                                   + " of " + std::to_string(rooms)
                                                   + " room(s) are not on copies without '"
                                                   + r->id + "'; try again"));
          r->rooms += rooms;
          if (--r->pending == 0)
            confirm_and_remove(self, r);
        },
        [=, node = node](caf::error& err) {
          abort_removal(self, r,
                        caf::make_error(errc::room_unavailable,
                                        "node '" + node + "' did not repair without '" + r->id
                                          + "': " + self->system().render(err)));
        });
}

size_t members_of(const msg::cluster_view& v) {
  return std::max<size_t>(v.members, v.nodes.size());
}

} // namespace

caf::result<uint64_t, uint64_t> repair(directory_self self, const msg::store_actor& store) {
  auto& st = self->state;
  if (st.leaving || st.joining)
    return caf::make_error(errc::room_unavailable, "node '" + st.node_id + "' is "
                                                     + (st.leaving ? "leaving" : "joining"));
  if (st.repairing)
    return caf::make_error(errc::room_unavailable,
                           "node '" + st.node_id + "' is repairing already");
  if (st.ring.empty()) { // not in a cluster: one copy is all there is
    spdlog::info("repair: not in a cluster, nothing to repair");
    return {uint64_t{0}, uint64_t{0}};
  }
  auto directories = st.peers;
  st.repair_peers.clear();
  for (auto& [id, dir] : st.peers)
    st.repair_peers.insert(id);
  directories.emplace(st.node_id, caf::actor_cast<msg::directory_actor>(self));
  auto worker = spawn_repair(self, store, st.node_id, st.ring, std::move(directories));
  self->monitor(worker);
  st.repairing = worker;
  self->delegate(worker, msg::repair_atom::value);
  return caf::delegated<uint64_t, uint64_t>{};
}

frame repair_everywhere(directory_self self) {
  auto& st = self->state;
  std::vector<std::string> asked{st.node_id};
  auto start = [=](const msg::directory_actor& dir, const std::string& id) {
    self->request(dir, repair_timeout, msg::repair_atom::value)
      .then([](uint64_t, uint64_t) {},
            [=](caf::error& err) {
              spdlog::warn("repair on node '{}' did not complete: {}", id,
                           self->system().render(err));
            });
  };
  start(caf::actor_cast<msg::directory_actor>(self), st.node_id);
  for (auto& [id, dir] : st.peers) {
    start(dir, id);
    asked.push_back(id);
  }
  std::sort(asked.begin(), asked.end());
  json_writer w;
  w.key("repairing").begin_array();
  for (auto& id : asked)
    w.str(id);
  w.end_array();
  return w.finish();
}

bool is_fenced(directory_self self, const std::string& id) {
  auto& st = self->state;
  return !st.fenced.empty() && st.fenced == id && runtime::steady_ms() < st.fenced_until_ms;
}

caf::result<bool> fence(directory_self self, uint32_t replication, const std::string& id) {
  auto& st = self->state;
  if (!st.fenced.empty() && st.fenced != id && runtime::steady_ms() < st.fenced_until_ms)
    return refused("node '" + st.node_id + "' is removing '" + st.fenced
                   + "' already; one removal at a time");
  auto& down = st.view.down;
  if (!is_fenced(self, id) && std::find(down.begin(), down.end(), id) == down.end())
    return false;
  st.fenced = id;
  st.fenced_until_ms = runtime::steady_ms() + fence_ms;
  apply_view(self, replication); // even once it is up again, nothing is placed on it
  return true;
}

void lift_fence(directory_self self, uint32_t replication, const std::string& id) {
  auto& st = self->state;
  if (st.fenced != id)
    return;
  st.fenced.clear();
  apply_view(self, replication);
}

caf::result<uint64_t, uint64_t> repair_without(directory_self self,
                                               const msg::store_actor& store,
                                               uint32_t replication, const std::string& gone) {
  auto& st = self->state;
  if (!is_fenced(self, gone))
    return refused("node '" + gone + "' is not fenced for its removal on node '" + st.node_id
                   + "'");
  // Every member, the one removed included, holds every room: each acked
  // write went to all of them, and none is short of copies (the ledger).
  if (replication >= members_of(st.view) && st.view.copies == 0)
    return {uint64_t{0}, uint64_t{0}};
  return repair(self, store);
}

// Checks what this node knows; then every node up confirms the member is down
// in its view and fences it (no room is placed on it from then on, even if it
// returns, and rooms whose replica set held it stopped), repairs the rooms it
// stores without it, confirms again (and that no node joined meanwhile); then
// the membership log removes it. Any failure lifts the fences.
caf::result<frame> remove_member(directory_self self, const directory_options& opts,
                                 std::string id) {
  auto& st = self->state;
  if (st.ring.empty() || !st.view.membership)
    return refused("not in a cluster: there is no member to remove");
  if (id == st.node_id)
    return refused("node '" + id
                   + "' cannot remove itself: stop it with SIGTERM (it hands its rooms over "
                     "and says goodbye)");
  if (std::find(st.view.nodes.begin(), st.view.nodes.end(), id) != st.view.nodes.end())
    return refused(
      "node '" + id
      + "' is up: stop it with SIGTERM (it hands its rooms over and says goodbye)");
  auto& down = st.view.down;
  if (std::find(down.begin(), down.end(), id) == down.end())
    return caf::make_error(errc::not_found, "no member '" + id + "'");
  if (down.size() > 1)
    return refused("more than one member is down; remove one only while every other member "
                   "is up (a room's other copy may be on another member down)");
  if (opts.replication < 2)
    return refused("with --replication 1 the rooms of '" + id
                   + "' have no other copy: removing it loses them; start it again instead");
  if (st.view.copies != 0)
    return caf::make_error(
      errc::room_unavailable,
      "rooms written while the cluster was smaller are not yet repaired on "
      "every member; try again once they are");
  auto r = std::make_shared<removal>();
  r->id = std::move(id);
  r->rp = self->make_response_promise<frame>();
  r->nodes.emplace_back(st.node_id, caf::actor_cast<msg::directory_actor>(self));
  for (auto& [node, dir] : st.peers)
    r->nodes.emplace_back(node, dir);
  spdlog::warn(
    "remove: removing node '{}': every node up fences it and repairs without it first", r->id);
  on_every_node(
    self, r,
    [=](const msg::directory_actor& dir) {
      return self->request(dir, removal_ask_timeout, msg::gone_atom::value, r->id);
    },
    [=] {
      repair_all_without(self, r);
    },
    [=](const std::string& node) {
      return "node '" + r->id + "' is not down in node '" + node + "''s view";
    });
  return r->rp;
}

} // namespace chat::actors::directory
