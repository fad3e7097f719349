#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include "chat/actors/metrics.hpp"
#include "store_messages.hpp"

namespace chat::actors {

/// Spawns the actor of one room: the only writer of its log. It numbers messages
/// (gap-free seq, vector clock), has them committed by the store actor, then acks
/// the senders and fans each message out as one shared frame to every live member.
msg::room_actor spawn_room(caf::local_actor* parent, std::string room, std::string node_id,
                           msg::store_actor store, msg::directory_actor directory,
                           std::chrono::milliseconds idle,
                           std::shared_ptr<node_metrics> metrics);

} // namespace chat::actors
