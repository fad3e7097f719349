#include "room_export.hpp"

namespace chat::actors {

void export_part(caf::event_based_actor* self, caf::actor store, const std::string& room,
                 uint64_t after, std::function<void(msg::room_import&, uint64_t end, bool last)> done,
                 std::function<void(caf::error&)> failed) {
  self->request(store, caf::infinite, msg::store_read{room, 0, after, true, export_part_size})
    .then(
      [=](msg::message_list& xs) {
        auto part = std::make_shared<msg::room_import>();
        part->room = room;
        for (auto& r : xs)
          part->records.push_back(storage::encode(r));
        auto end = xs.empty() ? after : xs.back().seq;
        if (xs.size() == export_part_size)
          return done(*part, end, false);
        // The last part: with the meta and the receipts.
        self->request(store, caf::infinite, msg::store_load{room})
          .then(
            [=](storage::room_meta& meta) {
              part->meta = storage::encode(meta);
              self->request(store, caf::infinite, msg::store_load_receipts{room})
                .then(
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
