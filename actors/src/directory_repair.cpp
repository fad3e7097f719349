// The repair (rooms back onto R copies among the nodes up) and the removal of a
// member gone for good, which repairs without it first (ADR 8, ADR 10).
#include <algorithm>
#include <memory>

#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "directory_state.hpp"
#include "handover.hpp"

namespace chat::actors::directory {

namespace {

/// A repair asks each stored room's home once, one room at a time (a
/// take-over each, bounded by its own timeouts): long for many rooms, but
/// never forever.
constexpr auto repair_timeout = std::chrono::seconds(3600);
/// How long a node's view and its membership actor have to answer a removal.
constexpr auto removal_ask_timeout = std::chrono::seconds(5);

caf::error refused(const std::string& why) {
  return caf::make_error(errc::bad_argument, why);
}

// One removal in flight: the nodes up (this one first), what they answered.
struct removal {
  std::string id;
  caf::typed_response_promise<frame> rp;
  std::vector<std::pair<std::string, msg::directory_actor>> nodes;
  size_t pending = 0;
  uint64_t rooms = 0;
  bool over = false;
  void fail(const caf::error& err) {
    if (!over)
      rp.deliver(err);
    over = true;
  }
};
using removal_ptr = std::shared_ptr<removal>;

// Step 3: the membership log's leader removes the member (every member up
// is told, whichever leads then removes it).
void remove_from_log(directory_self self, removal_ptr r) {
  auto& st = self->state;
  self->request(st.view.membership, removal_ask_timeout, msg::remove_atom::value, r->id)
    .then(
      [=](bool) {
        spdlog::warn("remove: node '{}' is being removed from the cluster ({} room(s) repaired "
                     "without it)",
                     r->id, r->rooms);
        json_writer w;
        w.key("removed").str(r->id).key("rooms").num(r->rooms);
        r->rp.deliver(w.finish());
        r->over = true;
      },
      [=](caf::error& err) {
        r->fail(err);
      });
}

// Step 2: every node up puts the rooms it stores onto copies without the member.
void repair_all_without(directory_self self, removal_ptr r) {
  r->pending = r->nodes.size();
  for (auto& [node, dir] : r->nodes)
    self->request(dir, repair_timeout, msg::repair_atom::value, r->id)
      .then(
        [=, node = node](uint64_t rooms, uint64_t repaired) {
          if (r->over)
            return;
          if (repaired < rooms)
            return r->fail(caf::make_error(
              errc::room_unavailable, "node '" + node + "': " + std::to_string(rooms - repaired)
                                        + " of " + std::to_string(rooms)
                                        + " room(s) are not on copies without '" + r->id
                                        + "'; nothing removed (try again)"));
          r->rooms += rooms;
          if (--r->pending == 0)
            remove_from_log(self, r);
        },
        [=, node = node](caf::error& err) {
          r->fail(caf::make_error(errc::room_unavailable,
                                  "node '" + node + "' did not repair without '" + r->id + "': "
                                    + self->system().render(err) + "; nothing removed"));
        });
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

bool member_down(directory_self self, const std::string& id) {
  auto& down = self->state.view.down;
  return std::find(down.begin(), down.end(), id) != down.end();
}

// A repair for a removal: only while the member is down here too, or this
// node's rooms could be placed onto it again.
caf::result<uint64_t, uint64_t>
repair_without(directory_self self, const msg::store_actor& store, const std::string& gone) {
  if (!member_down(self, gone))
    return refused("node '" + gone + "' is not a member down in node '" + self->state.node_id
                   + "''s view");
  return repair(self, store);
}

// Checks what this node knows, then: every node up confirms the member is
// down in its view (so no home still writes a room onto it, and a room whose
// replica set held it was stopped and is taken over afresh), every node up
// repairs without it, and the membership log removes it.
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
  if (!member_down(self, id))
    return caf::make_error(errc::not_found, "no member '" + id + "'");
  if (st.view.down.size() > 1)
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
  spdlog::warn("remove: removing node '{}': every node up repairs without it first", r->id);
  r->pending = r->nodes.size() - 1;
  if (r->pending == 0) {
    repair_all_without(self, r);
    return r->rp;
  }
  for (size_t k = 1; k < r->nodes.size(); ++k) {
    auto node = r->nodes[k].first;
    self->request(r->nodes[k].second, removal_ask_timeout, msg::gone_atom::value, r->id)
      .then(
        [=](bool down) {
          if (r->over)
            return;
          if (!down)
            return r->fail(refused("node '" + r->id + "' is not down in node '" + node
                                   + "''s view; nothing removed"));
          if (--r->pending == 0)
            repair_all_without(self, r);
        },
        [=](caf::error& err) {
          r->fail(caf::make_error(errc::room_unavailable, "node '" + node + "' did not answer: "
                                                            + self->system().render(err)
                                                            + "; nothing removed"));
        });
  }
  return r->rp;
}

} // namespace chat::actors::directory
