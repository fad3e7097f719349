#pragma once

#include <optional>

#include <caf/actor.hpp>

#include "chat/actors/frame.hpp"
#include "chat/actors/outbox.hpp"
#include "chat/gateway/auth.hpp"
#include "chat/gateway/codec.hpp"
#include "chat/runtime/rate_limit.hpp"
#include "command_counts.hpp"
#include "rate_limiter.hpp"

namespace chat::gateway {

// What the gateway does with a parsed command before any actor sees it, the
// same for every transport (WebSocket, SSE/poll with POST /rpc).

/// Answers what the gateway answers itself: `ping` (pong), a second `auth`, a
/// command over the connection's or the user's rate limit (`rate_limited`,
/// nothing executed; pings are exempt), `join`/`history` of a room the identity
/// may not access (`forbidden`). Returns nothing when the command goes on to
/// the connection actor.
/// Each command is counted in `counts` by type and by what happened to it.
[[nodiscard]] std::optional<actors::frame> screen_command(command& cmd, const identity& who,
                                                          runtime::token_bucket& connection,
                                                          rate_limiter& users,
                                                          command_counts& counts);

/// Hands a screened command to the connection actor. With `reply`, the
/// command's reply goes there instead of the connection's outbox (POST /rpc).
void forward_command(const caf::actor& conn, command&& cmd,
                     std::shared_ptr<actors::outbox> reply = nullptr);

} // namespace chat::gateway
