#pragma once

#include <string>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>

#include "chat/actors/frame.hpp"

namespace chat::actors {

/// Maps an actor error once to the protocol's error frame (echoing `ref`).
/// A storage failure is logged with a correlation id that the client sees.
/// An unavailable room says only that (clients retry); with `explain` (an
/// operator's request) it says why.
[[nodiscard]] frame error_frame(const std::string& ref, const caf::error& err,
                                caf::actor_system& sys, bool explain = false);

} // namespace chat::actors
