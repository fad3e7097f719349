#include "handover.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "store_messages.hpp"

namespace chat::actors {

namespace {

/// A take-over reads the log from every node and writes it onto the replicas.
constexpr auto takeover_timeout = std::chrono::seconds(15);
constexpr auto peer_timeout = std::chrono::seconds(3);

struct handover_state {
  bool leaving = true; ///< a handover (else a repair: nobody leaves)
  msg::store_actor store;
  std::string node_id;
  runtime::hash_ring ring; ///< the cluster without this node
  std::unordered_map<std::string, msg::directory_actor> peers;
  std::vector<std::string> rooms;
  size_t next = 0;
  size_t moved = 0;
  size_t told = 0;
  size_t untold = 0; ///< nodes that did not confirm they stopped counting this one
  caf::response_promise done;
  static inline const char* name = "handover";
};

using handover_self = caf::stateful_actor<handover_state>;

void finish_repair(handover_self* self) {
  auto& st = self->state;
  auto failed = st.rooms.size() - st.moved;
  if (failed == 0)
    spdlog::info("repair: {} of {} room(s) stored here are on their replica sets", st.moved,
                 st.rooms.size());
  else
    spdlog::warn("repair: {} of {} room(s) stored here are on their replica sets; {} not "
                 "(run it again once every member is up)",
                 st.moved, st.rooms.size(), failed);
  st.done.deliver(static_cast<uint64_t>(st.rooms.size()), static_cast<uint64_t>(st.moved));
  self->quit();
}

void next_room(handover_self* self) {
  auto& st = self->state;
  if (st.next == st.rooms.size() && !st.leaving)
    return finish_repair(self);
  if (st.next == st.rooms.size()) {
    spdlog::info("handover: {} of {} room(s) moved to their new home", st.moved,
                 st.rooms.size());
    // Complete only if every room moved and every node stopped counting this
    // one: the goodbye that follows shrinks the others' take-over quorum, which
    // then would miss a copy still held only here (ADR 8).
    if (st.moved == st.rooms.size() && st.untold == 0)
      st.done.deliver(true);
    else
      st.done.deliver(caf::make_error(
        errc::room_unavailable, std::to_string(st.rooms.size() - st.moved) + " of "
                                  + std::to_string(st.rooms.size()) + " room(s) not moved, "
                                  + std::to_string(st.untold) + " node(s) not told"));
    self->quit();
    return;
  }
  auto room = st.rooms[st.next++];
  auto home = st.peers.end();
  if (!st.ring.empty())
    home = st.peers.find(st.ring.owner(runtime::hash_ring::room_key(room)));
  if (home == st.peers.end()) {
    // A loop, not a call per room: a node may store 100,000 rooms.
    spdlog::warn("{}: no node to take room '{}' (nor the {} after it); they stay here",
                 st.leaving ? "handover" : "repair", room, st.rooms.size() - st.next);
    st.next = st.rooms.size();
    return next_room(self);
  }
  // A read through the room's actor on its new home: answered once that home
  // has taken the log over and written it onto its replicas (ADR 8).
  self
    ->request(home->second, takeover_timeout,
              msg::read_history{room, {0, std::nullopt, 1}, "", 0})
    .then(
      [=](frame&) {
        ++self->state.moved;
        next_room(self);
      },
      [=](caf::error& err) {
        spdlog::error("{}: room '{}' was not taken over: {}",
                      self->state.leaving ? "handover" : "repair", room,
                      self->system().render(err));
        next_room(self);
      });
}

void list_rooms(handover_self* self) {
  self->request(self->state.store, caf::infinite, msg::rooms_atom::value)
    .then(
      [=](std::vector<std::string>& rooms) {
        self->state.rooms = std::move(rooms);
        next_room(self);
      },
      [=](caf::error& err) {
        self->state.done.deliver(err);
        self->quit();
      });
}

void init(handover_self* self, msg::store_actor store, std::string node_id,
          runtime::hash_ring ring,
          std::unordered_map<std::string, msg::directory_actor> peers) {
  auto& st = self->state;
  st.store = std::move(store);
  st.node_id = std::move(node_id);
  st.ring = std::move(ring);
  st.peers = std::move(peers);
}

caf::behavior handover_actor(handover_self* self, msg::store_actor store, std::string node_id,
                             runtime::hash_ring ring,
                             std::unordered_map<std::string, msg::directory_actor> peers) {
  init(self, std::move(store), std::move(node_id), std::move(ring), std::move(peers));
  return {
    [=](msg::handover_atom) {
      auto& st = self->state;
      st.done = self->make_response_promise();
      if (st.peers.empty())
        return list_rooms(self);
      // First every other node stops counting this one as a home or replica,
      // so the take-overs below leave it out.
      for (auto& [id, dir] : st.peers)
        self->request(dir, peer_timeout, msg::node_leaving_atom::value, st.node_id)
          .then(
            [=](bool) {
              if (++self->state.told == self->state.peers.size())
                list_rooms(self);
            },
            [=](caf::error& err) {
              spdlog::warn("handover: node '{}' was not told: {}", id,
                           self->system().render(err));
              ++self->state.untold;
              if (++self->state.told == self->state.peers.size())
                list_rooms(self);
            });
    },
  };
}

caf::behavior repair_actor(handover_self* self, msg::store_actor store, std::string node_id,
                           runtime::hash_ring ring,
                           std::unordered_map<std::string, msg::directory_actor> directories) {
  init(self, std::move(store), std::move(node_id), std::move(ring), std::move(directories));
  self->state.leaving = false;
  return {
    [=](msg::repair_atom) {
      self->state.done = self->make_response_promise();
      list_rooms(self);
    },
    // A node it counts on went down (the directory says): the rooms homed
    // there would each wait out their take-over's timeout.
    [=](msg::shutdown_atom) {
      auto& st = self->state;
      spdlog::warn("repair: stopped after {} of {} room(s): a node went down; it runs again "
                   "later",
                   st.next, st.rooms.size());
      if (st.done.pending())
        st.done.deliver(
          caf::make_error(errc::room_unavailable, "a node went down during the repair"));
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_repair(caf::local_actor* parent, msg::store_actor store, std::string node_id,
                        runtime::hash_ring ring,
                        std::unordered_map<std::string, msg::directory_actor> directories) {
  return parent->spawn(repair_actor, std::move(store), std::move(node_id), std::move(ring),
                       std::move(directories));
}

caf::actor spawn_handover(caf::local_actor* parent, msg::store_actor store, std::string node_id,
                          runtime::hash_ring ring,
                          std::unordered_map<std::string, msg::directory_actor> peers) {
  return parent->spawn(handover_actor, std::move(store), std::move(node_id), std::move(ring),
                       std::move(peers));
}

} // namespace chat::actors
