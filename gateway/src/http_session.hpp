#pragma once

#include <memory>

#include <boost/asio/ip/tcp.hpp>

#include "shared_state.hpp"

namespace chat::gateway {

/// Serves one HTTP connection (keep-alive): health, the REST API, and the
/// WebSocket handshake, after which the socket moves to a websocket_session.
void run_http_session(boost::asio::ip::tcp::socket socket, std::shared_ptr<shared_state> state);

} // namespace chat::gateway
