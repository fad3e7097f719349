#pragma once

#include "http_exchange.hpp"

namespace chat::gateway {

/// Answers one request read whole by the session: CORS, who asks (credentials),
/// the user's rate limit, then the handler its path names in the route table
/// (http_router.cpp). Every answer goes through `ex.reply` or a hand-over.
void route(http_exchange& ex, request req);

} // namespace chat::gateway
