#pragma once

// The endpoints where a connection outlives its request: the WebSocket upgrade
// (/ws), Server-Sent Events (/sse), long-poll (/poll) and the commands of SSE
// and poll streams (/rpc). Each checks what opening needs (method, origin,
// rooms, credentials, the node's and the client's budgets) and answers a
// refusal itself; then a session of its kind takes over.

#include "chat/gateway/http_query.hpp"
#include "http_exchange.hpp"

namespace chat::gateway::streams {

void websocket(http_exchange& ex, const request& req, const target& t);
void sse(http_exchange& ex, const request& req, const target& t);
void poll(http_exchange& ex, const request& req, const target& t);
void rpc(http_exchange& ex, const request& req, const target& t);

} // namespace chat::gateway::streams
