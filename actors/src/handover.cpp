#include "handover.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/messages.hpp"
#include "room_export.hpp"

namespace chat::actors {

namespace {

struct handover_state {
  caf::actor store;
  runtime::hash_ring ring;
  std::unordered_map<std::string, caf::actor> peers;
  std::vector<std::string> rooms;
  size_t next = 0;
  size_t moved = 0;
  caf::response_promise done;
  static inline const char* name = "handover";
};

using handover_self = caf::stateful_actor<handover_state>;

void next_room(handover_self* self);

void fail(handover_self* self, const std::string& room, const caf::error& err) {
  spdlog::error("handover: room '{}' could not move: {}", room, self->system().render(err));
  next_room(self); // the room stays here; nothing is dropped
}

// Sends the part of `room`'s log after `after` to `home`; drops the room here
// once all of it arrived.
void send_part(handover_self* self, const std::string& room, caf::actor home, uint64_t after) {
  export_part(
    self, self->state.store, room, after,
    [=](msg::room_import& part, uint64_t next_after, bool last) {
      self->request(home, std::chrono::seconds(10), std::move(part))
        .then(
          [=](bool) {
            if (!last)
              return send_part(self, room, home, next_after);
            self->request(self->state.store, caf::infinite, msg::drop_atom::value, room)
              .then(
                [=](bool) {
                  ++self->state.moved;
                  next_room(self);
                },
                [=](caf::error& err) { fail(self, room, err); });
          },
          [=](caf::error& err) { fail(self, room, err); });
    },
    [=](caf::error& err) { fail(self, room, err); });
}

void next_room(handover_self* self) {
  auto& st = self->state;
  if (st.next == st.rooms.size()) {
    spdlog::info("handover: {} of {} room(s) moved to their new home", st.moved,
                 st.rooms.size());
    st.done.deliver(true);
    self->quit();
    return;
  }
  auto& room = st.rooms[st.next++];
  auto& owner = st.ring.owner(runtime::hash_ring::room_key(room));
  auto home = st.peers.find(owner);
  if (home == st.peers.end()) {
    spdlog::warn("handover: no node to take room '{}'; it stays here", room);
    return next_room(self);
  }
  send_part(self, room, home->second, 0);
}

caf::behavior handover_actor(handover_self* self, caf::actor store, runtime::hash_ring ring,
                             std::unordered_map<std::string, caf::actor> peers) {
  auto& st = self->state;
  st.store = std::move(store);
  st.ring = std::move(ring);
  st.peers = std::move(peers);
  return {
    [=](msg::handover_atom) {
      auto& st = self->state;
      st.done = self->make_response_promise();
      self->request(st.store, caf::infinite, msg::rooms_atom::value)
        .then(
          [=](std::vector<std::string>& rooms) {
            self->state.rooms = std::move(rooms);
            next_room(self);
          },
          [=](caf::error& err) {
            self->state.done.deliver(err);
            self->quit();
          });
    },
  };
}

} // namespace

caf::actor spawn_handover(caf::local_actor* parent, caf::actor store, runtime::hash_ring ring,
                          std::unordered_map<std::string, caf::actor> peers) {
  return parent->spawn(handover_actor, std::move(store), std::move(ring), std::move(peers));
}

} // namespace chat::actors
