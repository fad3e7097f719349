#pragma once

// How long an actor's mailbox is, read by the actor itself (the admin API,
// chat_mailbox_high_water).

#include <cstdint>

#include <caf/scheduled_actor.hpp>

namespace chat::actors {

/// The messages the actor has taken from its inbox and not handled yet: what
/// it works through in this round; those that arrived during the round count
/// at its next. Not `mailbox().size()`: that takes the inbox first, which
/// inside a handler walks CAF 0.17's queue sentinel as a message (UBSan's vptr
/// check stops there), and costs an atomic exchange per call.
inline uint64_t mailbox_backlog(caf::scheduled_actor* self) {
  return self->mailbox().queue().total_task_size();
}

} // namespace chat::actors
