#pragma once

#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>

#include "store_messages.hpp"

namespace chat::actors {

/// Records per part: a room's log crosses nodes in bounded messages.
constexpr uint32_t export_part_size = 1000;

namespace detail {

// `.await` holds every other message of the actor until the answer; `.then` does not.
template <class Handle, class F, class G>
void on_answer(Handle&& h, bool await, F f, G g) {
  if (await)
    h.await(std::move(f), std::move(g));
  else
    h.then(std::move(f), std::move(g));
}

} // namespace detail

/// Reads the part of `room`'s log after `after` from `store` as a room_import:
/// at most export_part_size records; a shorter part is the last one and also
/// carries the room's meta and read receipts. `done` also gets the seq the
/// part ends at (`after` when it is empty). Shared by the handover (a
/// leaving node pushes its rooms), the pull (a new home asks for them) and a
/// home bringing a replica up to date (`Self`: each of those actors). With
/// `await` the actor handles nothing else until the part is read (a room that
/// is still activating).
template <class Self>
void export_part(Self self, msg::store_actor store, const std::string& room, uint64_t after,
                 std::function<void(msg::room_import&, uint64_t end, bool last)> done,
                 std::function<void(caf::error&)> failed, bool await = false) {
  using detail::on_answer;
  on_answer(
    self->request(store, caf::infinite, msg::store_read{room, {0, after, export_part_size}}),
    await,
    [=](msg::message_list& xs) {
      auto part = std::make_shared<msg::room_import>();
      part->room = room;
      for (auto& r : xs)
        part->records.push_back(storage::encode(r));
      auto end = xs.empty() ? after : xs.back().seq;
      if (xs.size() == export_part_size)
        return done(*part, end, false);
      // The last part: with the meta and the receipts.
      on_answer(
        self->request(store, caf::infinite, msg::store_load{room}), await,
        [=](storage::room_meta& meta) {
          part->meta = storage::encode(meta);
          on_answer(
            self->request(store, caf::infinite, msg::store_load_receipts{room}), await,
            [=](msg::receipt_list& rs) {
              for (auto& [user, seq] : rs) {
                part->receipt_users.push_back(user);
                part->receipt_seqs.push_back(seq);
              }
              done(*part, end, true);
            },
            failed);
        },
        failed);
    },
    failed);
}

} // namespace chat::actors
