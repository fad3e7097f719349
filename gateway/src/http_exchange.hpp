#pragma once

// What a request handler sees of the HTTP connection that carries the request.
// The session (http_session.cpp, one per stream type: TCP or TLS) reads the
// request, implements this interface and writes what the handlers answer; the
// handlers (routing, credentials, REST, streams) are plain functions of it,
// compiled once. As in Beast's examples: the session does I/O only.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include "budgets.hpp"
#include "chat/actors/frame.hpp"
#include "chat/gateway/auth.hpp"
#include "http_request.hpp"
#include "shared_state.hpp"
#include "transport.hpp"

namespace chat::gateway {

namespace http = boost::beast::http;
using http_request::request;

/// An answer to one request: a status, a body and its type, extra headers.
struct http_reply {
  http::status status = http::status::ok;
  std::string body;
  std::string_view content_type = "application/json";
  std::vector<std::pair<http::field, std::string>> headers;
  bool close = false; ///< close the connection after it (the request was not read whole)
};

/// A JSON body with `status`.
[[nodiscard]] http_reply json_reply(http::status status, std::string body);
/// An error body; its status is the code's (http_status_for), unless given:
/// HTTP's own refusals (405, 415, 426, ...) carry the protocol code `bad_request`.
[[nodiscard]] http_reply error_reply(actors::wire_error code, std::string_view message,
                                     std::optional<http::status> status = std::nullopt);
/// 405, the body saying what is `allowed`.
[[nodiscard]] http_reply method_not_allowed(std::string_view allowed);
/// A frame from the actors (an ack, a history, an error): its error code, a
/// value kept with the frame, gives the status.
[[nodiscard]] http_reply frame_reply(const actors::frame& f);
/// A limit refused the request: the client's own (429, try again in `retry_s`),
/// or the node's (503).
[[nodiscard]] http_reply refusal_reply(const refusal& no, int64_t retry_s);

class http_exchange : public std::enable_shared_from_this<http_exchange> {
public:
  virtual ~http_exchange() = default;

  /// Answers the current request; from any thread (the session writes it on
  /// its own). Exactly once per request, unless the connection left HTTP.
  virtual void reply(http_reply r) = 0;

  /// The connection leaves HTTP (SSE, a held poll, /rpc): no read timeout.
  virtual void expires_never() = 0;
  /// The socket, for a session that takes the connection over (SSE).
  virtual std::unique_ptr<transport> take_transport() = 0;
  /// Writes the 101 answer to a valid WebSocket upgrade and hands the socket
  /// (and any bytes read past the request) to a WebSocket session.
  virtual void upgrade_to_websocket(std::string accept_key, std::optional<identity> id,
                                    std::unique_ptr<unauthenticated_ticket> pending) = 0;

  std::shared_ptr<shared_state> state;
  std::string peer;                      ///< the client's address ("" when unknown)
  boost::asio::ip::tcp::endpoint remote; ///< the client's address and port
  std::string cors_origin;               ///< the request's Origin when it is allowed
  std::optional<identity> caller;        ///< who sent the current request (see identify)
};

/// A callback that replies to `ex` with the frame an actor thread hands back
/// (frame_reply); it keeps the exchange alive until then.
[[nodiscard]] std::function<void(const actors::frame&)> answer_with_frame(http_exchange& ex);

} // namespace chat::gateway
