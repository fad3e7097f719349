#include "room_export.hpp"

namespace chat::actors {

namespace {

// `.await` holds every other message of the actor until the answer; `.then` does not.
template <class Handle, class F, class G>
void on_answer(Handle&& h, bool await, F f, G g) {
  if (await)
    h.await(std::move(f), std::move(g));
  else
    h.then(std::move(f), std::move(g));
}

} // namespace

void export_part(caf::event_based_actor* self, msg::store_actor store, const std::string& room,
                 uint64_t after,
                 std::function<void(msg::room_import&, uint64_t end, bool last)> done,
                 std::function<void(caf::error&)> failed, bool await) {
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
