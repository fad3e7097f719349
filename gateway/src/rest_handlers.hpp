#pragma once

// The request/response endpoints: the demo page and client.js, /metrics,
// /healthz and /readyz, the room REST API (history, publish, presence) and the
// test-only fault control. Each answers through `ex.reply`, at once or later
// from an actor thread.

#include "chat/gateway/http_query.hpp"
#include "http_exchange.hpp"

namespace chat::gateway::rest {

void index_page(http_exchange& ex, const request& req, const target& t);
void client_js(http_exchange& ex, const request& req, const target& t);
/// GET /admin: the admin console (docs/admin.md); it asks the admin API, which
/// checks the caller.
void admin_page(http_exchange& ex, const request& req, const target& t);
void metrics(http_exchange& ex, const request& req, const target& t);
void health(http_exchange& ex, const request& req, const target& t);
void fault_control(http_exchange& ex, const request& req, const target& t);

/// `/api/rooms/{room}/presence` and `/api/rooms/{room}/messages`; the router
/// checked the room name and the caller's credentials.
void presence(http_exchange& ex, const request& req, const target& t, std::string room);
void messages(http_exchange& ex, const request& req, const target& t, std::string room);

} // namespace chat::gateway::rest
