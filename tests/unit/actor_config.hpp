#pragma once

#include <caf/actor_system_config.hpp>

#include "chat/actors/node.hpp"

namespace chat::test {

/// The actor system config of an in-process node without a cluster: the
/// chat message types, two scheduler threads, no CAF console log. One for the
/// whole test binary (CAF's config must outlive every system built from it).
inline caf::actor_system_config& actor_config() {
  static caf::actor_system_config* cfg = [] {
    auto* c = new caf::actor_system_config;
    actors::register_types(*c);
    c->set("scheduler.max-threads", size_t{2});
    c->set("logger.console", caf::atom("none"));
    return c;
  }();
  return *cfg;
}

} // namespace chat::test
