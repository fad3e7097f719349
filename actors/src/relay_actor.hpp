#pragma once

#include <chrono>
#include <string>

#include <caf/actor.hpp>
#include <caf/local_actor.hpp>

#include "chat/actors/metrics.hpp"
#include "node_messages.hpp"

namespace chat::actors {

/// Spawns this node's relay of one room. Every connection of the node joins the
/// room through it. The room (on its home node, maybe this one) sends each
/// stored message once to each relay; the relay pushes that one shared frame to
/// each of its caught-up members, brings members that joined with `since` up to
/// date (from its recent frames or the room), and forwards its members' posts,
/// reads and signals to the room. When the room's actor goes away (its node
/// left), the relay finds the room's new home and joins its members there again.
msg::relay_actor spawn_relay(caf::local_actor* parent, std::string room,
                             msg::directory_actor directory, std::string node_id,
                             std::shared_ptr<node_metrics> metrics);

} // namespace chat::actors
