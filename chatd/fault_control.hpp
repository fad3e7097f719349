#pragma once

#include <functional>
#include <string>

#include <caf/fwd.hpp>

#include "chat/cluster/fault_injector.hpp"
#include "chat/cluster/membership.hpp"

namespace chatd {

/// The handler of `POST /debug/faults` (`chatd --fault-injection`): a JSON
/// object of faults to set on this node's links, answered with the injector's
/// counters. `members` names the peers (it may be null until the node joined).
///
///   {"isolate": true}            every link of this node holds its frames
///   {"partition": ["n2", "n3"]}  the links to these nodes do
///   {"drop": 0.1}                lose this share of messages between actors
///   {"delay": [5, 50]}           each frame waits 5..50 ms (order kept)
///   {"heal": true}               all of the above lifted
///   {"stuck_actor": true}        an actor that never ends (the exit deadline's test)
std::function<bool(const std::string&, std::string&)>
fault_control(caf::actor_system& sys, chat::cluster::fault_injector& faults, std::string self,
              const std::unique_ptr<chat::cluster::membership>& members);

} // namespace chatd
