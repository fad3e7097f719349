#include "stream_handlers.hpp"

#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include "chat/actors/events.hpp"
#include "chat/gateway/codec.hpp"
#include "chat/gateway/stream_format.hpp"
#include "chat/gateway/ws_protocol.hpp"
#include "http_credentials.hpp"
#include "poll_stream.hpp"
#include "sse_session.hpp"

namespace chat::gateway::streams {

namespace {

using actors::wire_error;

http_reply method_not_allowed(std::string_view allowed) {
  return error_reply(wire_error::bad_request, allowed, http::status::method_not_allowed);
}

http_reply shutting_down() {
  return error_reply(wire_error::overloaded, "the node is shutting down");
}

struct opened_stream {
  identity who;
  stream_request request;
  stream_budget budget;
};

// Checks what opening an SSE or poll stream needs: GET, a node that accepts
// connections, an allowed origin, valid rooms and positions, credentials that
// may access every room, a free connection slot. Answers 4xx/5xx itself.
std::optional<opened_stream> open_stream(http_exchange& ex, const request& req,
                                         const target& t) {
  if (req.method() != http::verb::get) {
    ex.reply(method_not_allowed("use GET"));
    return std::nullopt;
  }
  if (!ex.state->accepting) {
    ex.reply(shutting_down());
    return std::nullopt;
  }
  if (!check_origin(ex, req))
    return std::nullopt;
  std::optional<std::string_view> last_event_id;
  if (auto h = req.find("Last-Event-ID"); h != req.end())
    last_event_id = std::string_view{h->value().data(), h->value().size()};
  auto parsed = parse_stream_request(t, last_event_id);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    ex.reply(error_reply(wire_error::bad_request, *why));
    return std::nullopt;
  }
  auto& id = *ex.caller; // the route requires credentials
  auto& sr = std::get<stream_request>(parsed);
  for (auto& room : sr.rooms)
    if (!id.may_access(room)) {
      ex.reply(error_reply(wire_error::forbidden, "not allowed in room '" + room + "'"));
      return std::nullopt;
    }
  auto budget = stream_budget::take(ex.state, id.user, ex.peer);
  if (auto* no = std::get_if<refusal>(&budget)) {
    ex.reply(refusal_reply(*no, poll_stream::idle_timeout.count()));
    return std::nullopt;
  }
  return opened_stream{id, std::move(sr), std::move(std::get<stream_budget>(budget))};
}

// Replies to `ex` with what an actor thread or a stream hands back.
auto answer(http_exchange& ex) {
  return [self = ex.shared_from_this()](const actors::frame& f) {
    self->reply(frame_reply(f));
  };
}

} // namespace

void websocket(http_exchange& ex, const request& req, const target&) {
  if (!boost::beast::websocket::is_upgrade(req))
    return ex.reply(error_reply(wire_error::bad_request, "GET /ws needs a WebSocket upgrade",
                                http::status::upgrade_required));
  if (req[http::field::sec_websocket_version] != "13") {
    auto r = error_reply(wire_error::bad_request, "WebSocket version must be 13",
                         http::status::upgrade_required);
    r.headers.emplace_back(http::field::sec_websocket_version, "13");
    return ex.reply(std::move(r));
  }
  auto key = req[http::field::sec_websocket_key];
  if (key.size() != 24)
    return ex.reply(
      error_reply(wire_error::bad_request, "missing or malformed Sec-WebSocket-Key"));
  if (!ex.state->accepting)
    return ex.reply(shutting_down());
  if (!check_origin(ex, req))
    return;
  // A token (header or query), a dev-mode user, or neither: then the first
  // frame must be `auth` (see identify).
  std::optional<identity> id = ex.caller;
  // A socket that has yet to authenticate takes a place in a smaller budget
  // of its own (per node and per address), never a connection slot.
  std::unique_ptr<unauthenticated_ticket> pending;
  if (!id) {
    auto ticket = unauthenticated_ticket::take(ex.state, ex.peer);
    if (auto* no = std::get_if<refusal>(&ticket))
      return ex.reply(refusal_reply(*no, 5));
    pending = std::move(std::get<0>(ticket));
  } else if (!ex.state->reserve_slot()) {
    return ex.reply(error_reply(wire_error::overloaded, "too many connections on this node"));
  }
  ex.upgrade_to_websocket(websocket_accept_key(std::string_view{key.data(), key.size()}),
                          std::move(id), std::move(pending));
}

// GET /sse: the response head goes out first, then the session owns the
// connection and writes events until either side closes.
void sse(http_exchange& ex, const request& req, const target& t) {
  auto opened = open_stream(ex, req, t);
  if (!opened)
    return;
  std::string head = "HTTP/1.1 200 OK\r\nServer: chatd\r\n"
                     "Content-Type: text/event-stream; charset=utf-8\r\n"
                     "Cache-Control: no-cache\r\nConnection: close\r\n"
                     "X-Accel-Buffering: no\r\n";
  if (!ex.cors_origin.empty())
    head += "Access-Control-Allow-Origin: " + ex.cors_origin + "\r\nVary: Origin\r\n";
  head += "\r\n";
  ex.expires_never();
  auto session = std::make_shared<sse_session>(
    ex.take_transport(), ex.state, std::move(opened->who), std::move(opened->request),
    std::move(head), std::move(opened->budget));
  session->start(ex.remote);
}

// GET /poll: without a cursor opens a stream (like /sse); with one, continues it.
void poll(http_exchange& ex, const request& req, const target& t) {
  uint64_t timeout_s = default_poll_timeout_s;
  if (auto* v = t.param("timeout")) {
    auto n = parse_uint(*v);
    if (!n || *n > max_poll_timeout_s)
      return ex.reply(
        error_reply(wire_error::bad_request,
                    "timeout must be 0-" + std::to_string(max_poll_timeout_s) + " seconds"));
    timeout_s = *n;
  }
  std::shared_ptr<poll_stream> stream;
  uint64_t count = 0;
  if (auto* c = t.param("cursor")) {
    if (req.method() != http::verb::get)
      return ex.reply(method_not_allowed("use GET"));
    auto cursor = parse_cursor(*c);
    if (!cursor)
      return ex.reply(
        error_reply(wire_error::bad_request,
                    "invalid cursor: pass the cursor of the previous reply unchanged"));
    stream = std::dynamic_pointer_cast<poll_stream>(ex.state->find_stream(cursor->stream));
    if (!stream)
      return ex.reply(error_reply(wire_error::bad_request,
                                  "stale cursor: the stream is gone (expired or the node "
                                  "restarted); poll again without a cursor (rooms, since)"));
    if (stream->who().user != ex.caller->user)
      return ex.reply(error_reply(wire_error::forbidden, "the cursor belongs to another user"));
    count = cursor->count;
  } else {
    auto opened = open_stream(ex, req, t);
    if (!opened)
      return;
    stream = std::make_shared<poll_stream>(
      ex.state, std::move(opened->who), std::move(opened->request), std::move(opened->budget));
    stream->start(ex.remote);
  }
  ex.expires_never();
  stream->wait(count, std::chrono::seconds(timeout_s),
               [self = ex.shared_from_this()](poll_stream::result r) {
                 self->reply(
                   json_reply(static_cast<http::status>(r.status), std::move(r.body)));
               });
}

// POST /rpc?session=ID: one command for an SSE or poll stream of the same
// user; the answer is the command's reply frame (its error code as the status).
void rpc(http_exchange& ex, const request& req, const target& t) {
  if (req.method() != http::verb::post)
    return ex.reply(method_not_allowed("use POST"));
  if (req[http::field::content_type].substr(0, 16) != "application/json")
    return ex.reply(error_reply(wire_error::bad_request,
                                "Content-Type must be application/json",
                                http::status::unsupported_media_type));
  auto* sid = t.param("session");
  if (sid == nullptr)
    return ex.reply(
      error_reply(wire_error::bad_request,
                  "?session= is required (from the SSE `session` event or a poll reply)"));
  auto stream = ex.state->find_stream(*sid);
  if (!stream)
    return ex.reply(error_reply(
      wire_error::not_found, "no open stream with this session id; open /sse or /poll again"));
  if (stream->who().user != ex.caller->user)
    return ex.reply(error_reply(wire_error::forbidden, "the session belongs to another user"));
  if (req.body().size() > ex.state->opts.max_frame_bytes)
    return ex.reply(error_reply(wire_error::too_large, "a command frame is at most 128 KiB"));
  auto parsed = parse_command(req.body());
  if (auto* err = std::get_if<command_error>(&parsed))
    return ex.reply(frame_reply(actors::error_event(err->ref, err->code, err->message)));
  stream->alive();
  ex.expires_never();
  stream->call(std::get<command>(std::move(parsed)), answer(ex));
}

} // namespace chat::gateway::streams
