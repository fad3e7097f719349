#pragma once

#include <functional>
#include <string>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>

#include "store_messages.hpp"

namespace chat::actors {

/// Records per part: a room's log crosses nodes in bounded messages.
constexpr uint32_t export_part_size = 1000;

/// Reads the part of `room`'s log after `after` from `store` as a room_import:
/// at most export_part_size records; a shorter part is the last one and also
/// carries the room's meta and read receipts. `done` also gets the seq the
/// part ends at (`after` when it is empty). Shared by the handover (a
/// leaving node pushes its rooms), the pull (a new home asks for them) and a
/// home bringing a replica up to date. With `await` the actor handles nothing
/// else until the part is read (a room that is still activating).
void export_part(caf::event_based_actor* self, msg::store_actor store, const std::string& room,
                 uint64_t after,
                 std::function<void(msg::room_import&, uint64_t end, bool last)> done,
                 std::function<void(caf::error&)> failed, bool await = false);

} // namespace chat::actors
