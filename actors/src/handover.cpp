#include "handover.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/messages.hpp"

namespace chat::actors {

namespace {

/// Records per part: a room's log moves in bounded messages.
constexpr uint32_t part_size = 1000;

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

// Sends the part of `room`'s log after `after` to `home`; the last part also
// carries the meta and receipts. Drops the room here once all of it arrived.
void send_part(handover_self* self, const std::string& room, caf::actor home, uint64_t after) {
  auto& st = self->state;
  self->request(st.store, caf::infinite, msg::store_read{room, 0, after, true, part_size})
    .then(
      [=](msg::message_list& xs) {
        msg::room_import part;
        part.room = room;
        for (auto& r : xs)
          part.records.push_back(storage::encode(r));
        auto last = xs.size() < part_size;
        auto next_after = xs.empty() ? after : xs.back().seq;
        auto deliver = [=](msg::room_import part) {
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
        };
        if (!last)
          return deliver(std::move(part));
        // The last part: with the meta and the receipts.
        self->request(self->state.store, caf::infinite, msg::store_load{room})
          .then(
            [=](storage::room_meta& meta) mutable {
              part.meta = storage::encode(meta);
              self->request(self->state.store, caf::infinite, msg::store_load_receipts{room})
                .then(
                  [=](msg::receipt_list& rs) mutable {
                    for (auto& [user, seq] : rs) {
                      part.receipt_users.push_back(user);
                      part.receipt_seqs.push_back(seq);
                    }
                    deliver(std::move(part));
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
