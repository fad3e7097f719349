#include "http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/events.hpp"
#include "chat/gateway/codec.hpp"
#include "chat/gateway/http_query.hpp"
#include "chat/gateway/ws_protocol.hpp"
#include "chat/runtime/clock.hpp"
#include "chat/gateway/stream_format.hpp"
#include "http_request.hpp"
#include "poll_stream.hpp"
#include "sse_session.hpp"
#include "tls_transport.hpp"
#include "websocket_session.hpp"

namespace chat::gateway {

namespace web {
extern const std::string_view index_html;
extern const std::string_view client_js;
} // namespace web

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

namespace {

using http_request::request;
using response = http::response<http::string_body>;

std::string error_body(std::string_view code, std::string_view message) {
  std::string out = R"({"type":"error","code":)";
  actors::append_json_string(out, code);
  out += R"(,"message":)";
  actors::append_json_string(out, message);
  out += '}';
  return out;
}

// The HTTP status of a reply frame: 200, or the one its error code stands for.
http::status status_of(std::string_view json) {
  if (json.find(R"("type":"error")") != 1)
    return http::status::ok;
  static constexpr std::pair<std::string_view, http::status> codes[] = {
    {"bad_request", http::status::bad_request},
    {"unauthorized", http::status::unauthorized},
    {"forbidden", http::status::forbidden},
    {"not_found", http::status::not_found},
    {"not_joined", http::status::conflict},
    {"too_large", http::status::payload_too_large},
    {"rate_limited", http::status::too_many_requests},
    {"overloaded", http::status::service_unavailable},
    {"unavailable", http::status::service_unavailable},
  };
  for (auto& [code, status] : codes)
    if (json.find(std::string{R"("code":")"} + std::string{code} + '"') != std::string_view::npos)
      return status;
  return http::status::internal_server_error;
}

// One HTTP connection over `Stream`: beast::tcp_stream, or tls_stream (TLS
// handshake first). The WebSocket upgrade hands the stream to a transport.
template <class Stream>
class http_session : public std::enable_shared_from_this<http_session<Stream>> {
  static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

public:
  // The socket is counted in `state->sockets` (taken by the acceptor); the
  // session gives it back, or hands it on with the socket at an upgrade.
  http_session(asio::ip::tcp::socket socket, std::shared_ptr<shared_state> state) :
    stream_(std::move(socket)), state_(std::move(state)) {}

  http_session(asio::ip::tcp::socket socket, asio::ssl::context& tls,
               std::shared_ptr<shared_state> state) :
    stream_(std::move(socket), tls), state_(std::move(state)) {}

  ~http_session() {
    if (holds_socket_)
      state_->sockets.release();
  }

  http_session(const http_session&) = delete;
  http_session& operator=(const http_session&) = delete;

  void run() {
    error_code ec;
    auto peer = lowest().socket().remote_endpoint(ec);
    if (!ec)
      peer_ = peer.address().to_string();
    // Per client IP: new connections (and so handshakes) are rate limited.
    if (!charge_address("too many new connections from this address"))
      return;
    if constexpr (is_tls) {
      lowest().expires_after(state_->opts.request_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec)
                                  return self->close();
                                self->do_read();
                              });
    } else {
      do_read();
    }
  }

private:
  // Takes a token from the client address's connection bucket: every new
  // connection, and every further request on a kept-alive one (so that
  // pipelining costs what opening connections would). Answers 429 otherwise.
  bool charge_address(std::string_view why) {
    int64_t retry_after = 0;
    if (peer_.empty() || state_->connects.take(peer_, retry_after))
      return true;
    response res{http::status::too_many_requests, version_};
    res.set(http::field::retry_after, std::to_string((retry_after + 999) / 1000));
    res.set(http::field::content_type, "application/json");
    res.body() = error_body("rate_limited", why);
    write(std::move(res), false);
    return false;
  }

  // Takes a token from the caller's per-user bucket (the one its commands use);
  // answers 429 with Retry-After otherwise, keeping the connection.
  bool charge_user() {
    int64_t retry_after = 0;
    if (state_->user_commands.take(caller_->user, retry_after))
      return true;
    response res{http::status::too_many_requests, version_};
    res.set(http::field::retry_after, std::to_string((retry_after + 999) / 1000));
    res.set(http::field::content_type, "application/json");
    res.body() = error_body("rate_limited", "too many requests from this user");
    write(std::move(res), keep_alive_);
    return false;
  }

  // The header first: what it says decides whether the body is read at all.
  void do_read() {
    parser_.emplace();
    http_request::limit(*parser_);
    checks_ = {};
    lowest().expires_after(state_->opts.request_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](error_code ec, size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(error_code ec) {
    if (ec)
      return on_read_error(ec);
    if (++requests_ > 1 && !charge_address("too many requests from this address"))
      return;
    auto& req = parser_->get();
    version_ = req.version();
    if (auto why = checks_.after_header(req); !why.empty())
      return send_error(http::status::bad_request, "bad_request", why, false);
    if (auto expect = req.find(http::field::expect); expect != req.end()) {
      if (!beast::iequals(expect->value(), "100-continue"))
        return send_error(http::status::expectation_failed, "bad_request",
                          "only 'Expect: 100-continue' is understood", false);
      // The client waits for this before it sends the body (RFC 9110 10.1.1).
      static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      return asio::async_write(stream_, asio::buffer(go_on.data(), go_on.size()),
                               [self = this->shared_from_this()](error_code ec, size_t) {
                                 if (ec)
                                   return self->close();
                                 self->read_body();
                               });
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) // no body (GET): nothing more to read
      return on_read({});
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read_error(error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout)
      return close();
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
      return send_error(http::status::request_header_fields_too_large, "bad_request",
                        ec == http::error::header_limit
                          ? "request headers larger than 8 KiB"
                          : "request line, chunk line or trailer larger than 16 KiB",
                        false);
    if (ec == http::error::body_limit)
      return send_error(http::status::payload_too_large, "too_large", "request body too large",
                        false);
    if (ec.category() == http::make_error_code(http::error::bad_target).category())
      return send_error(http::status::bad_request, "bad_request", "malformed HTTP request",
                        false);
    close();
  }

  void on_read(error_code ec) {
    if (ec)
      return on_read_error(ec);
    if (auto why = checks_.after_body(parser_->get()); !why.empty())
      return send_error(http::status::bad_request, "bad_request", why, false);
    route(parser_->release());
  }

  void route(request req) {
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    cors_origin_.clear();
    if (auto origin = req.find(http::field::origin); origin != req.end()) {
      std::string o{origin->value().data(), origin->value().size()};
      auto& allowed = state_->opts.allowed_origins;
      if (std::find(allowed.begin(), allowed.end(), o) != allowed.end())
        cors_origin_ = std::move(o);
    }
    if (req.method() == http::verb::options)
      return preflight();
    auto t = parse_target(std::string_view{req.target().data(), req.target().size()});
    if (!t)
      return send_error(http::status::bad_request, "bad_request", "malformed request target");
    auto& path = t->path;
    // Who asks comes before anything else about the request: a client without
    // valid credentials learns nothing of its shape (no 400 before the 401).
    caller_.reset();
    if (auto need = credentials_for(path); need != credentials::none && !identify(req, *t, need))
      return;
    // A user's HTTP requests draw on the bucket its commands do (a kept-alive
    // connection costs no new handshakes). /ws and /rpc are charged per command.
    if (caller_ && !caller_->user.empty() && path != "/ws" && path != "/rpc" && !charge_user())
      return;
    if (path == "/ws")
      return upgrade(std::move(req));
    if (path == "/" || path == "/index.html")
      return static_file(req, "text/html; charset=utf-8", web::index_html);
    if (path == "/client.js")
      return static_file(req, "text/javascript; charset=utf-8", web::client_js);
    if (path == "/metrics") {
      if (req.method() != http::verb::get)
        return send_error(http::status::method_not_allowed, "bad_request", "use GET");
      auto text = state_->node.metrics->prometheus();
      text += "# HELP chat_connections Open client connections (WebSocket, SSE, poll).\n"
              "# TYPE chat_connections gauge\nchat_connections "
              + std::to_string(state_->session_count()) + "\n";
      return static_file(req, "text/plain; version=0.0.4; charset=utf-8", text);
    }
    if (path == "/sse")
      return sse(req, *t);
    if (path == "/poll")
      return poll(req, *t);
    if (path == "/rpc")
      return rpc(req, *t);
    if (path == "/debug/faults" && state_->opts.fault_control)
      return fault_control(req);
    if (path == "/healthz" || path == "/readyz") {
      if (req.method() != http::verb::get)
        return send_error(http::status::method_not_allowed, "bad_request", "use GET");
      if (path == "/readyz" && !state_->accepting)
        return send_json(http::status::service_unavailable, R"({"status":"stopping"})");
      // A node that cannot store a message should get no new clients.
      if (path == "/readyz" && state_->node.metrics->storage_failing.load() != 0)
        return send_json(http::status::service_unavailable, R"({"status":"storage_failing"})");
      return send_json(http::status::ok,
                       path == "/healthz" ? R"({"status":"ok"})" : R"({"status":"ready"})");
    }
    static constexpr std::string_view rooms_prefix = "/api/rooms/";
    if (path.compare(0, rooms_prefix.size(), rooms_prefix) == 0) {
      auto rest = std::string_view{path}.substr(rooms_prefix.size());
      auto slash = rest.find('/');
      if (slash != std::string_view::npos && rest.substr(slash) == "/presence") {
        if (req.method() != http::verb::get)
          return send_error(http::status::method_not_allowed, "bad_request", "use GET");
        return presence(std::string{rest.substr(0, slash)});
      }
      if (slash != std::string_view::npos && rest.substr(slash) == "/messages") {
        if (req.method() == http::verb::post)
          return publish(std::string{rest.substr(0, slash)}, req);
        if (req.method() != http::verb::get)
          return send_error(http::status::method_not_allowed, "bad_request",
                            "use GET (history) or POST (publish)");
        return history(std::string{rest.substr(0, slash)}, *t);
      }
    }
    send_error(http::status::not_found, "not_found", "no such endpoint: " + path);
  }

  // Tests only (chatd --fault-injection): the node's fault injector.
  void fault_control(const request& req) {
    if (req.method() != http::verb::post)
      return send_error(http::status::method_not_allowed, "bad_request", "use POST");
    std::string reply;
    if (!state_->opts.fault_control(req.body(), reply))
      return send_error(http::status::bad_request, "bad_request", reply);
    send_json(http::status::ok, std::move(reply));
  }

  void history(std::string room, const target& t) {
    if (!valid_room_name(room))
      return send_error(http::status::bad_request, "bad_request",
                        "room must be 1-128 bytes of [A-Za-z0-9._:-]");
    if (!rest_identity(room))
      return;
    msg::cmd_history cmd;
    cmd.room = std::move(room);
    bool has_before = false;
    for (auto* key : {"before", "after", "limit"}) {
      auto* v = t.param(key);
      if (v == nullptr)
        continue;
      auto n = parse_uint(*v);
      if (!n)
        return send_error(http::status::bad_request, "bad_request",
                          std::string{"'"} + key + "' must be a non-negative integer");
      if (key == std::string_view{"before"}) {
        cmd.before = *n;
        has_before = true;
      } else if (key == std::string_view{"after"}) {
        cmd.after = *n;
        cmd.has_after = true;
      } else {
        cmd.limit = *n > max_history_limit ? max_history_limit + 1 : static_cast<uint32_t>(*n);
      }
    }
    if (auto why = check_history_window(cmd, has_before); !why.empty())
      return send_error(http::status::bad_request, "bad_request", why);
    actors::read_history(
      state_->sys, state_->node, std::move(cmd), [self = this->shared_from_this()](actors::frame f) {
        asio::post(self->stream_.get_executor(), [self, f] {
          self->send_json(status_of(f.json()), std::string{f.json()});
        });
      });
  }

  // Server-side publish: a token with the `publish` or `admin` scope (in --dev
  // mode an anonymous request publishes as "server"), a JSON body {id, body}.
  void publish(std::string room, const request& req) {
    if (!valid_room_name(room))
      return send_error(http::status::bad_request, "bad_request",
                        "room must be 1-128 bytes of [A-Za-z0-9._:-]");
    auto type = req[http::field::content_type];
    if (type.substr(0, 16) != "application/json")
      return send_error(http::status::unsupported_media_type, "bad_request",
                        "Content-Type must be application/json");
    auto id = rest_identity(room);
    if (!id)
      return;
    bool anonymous_dev = id->user.empty();
    if (!anonymous_dev && !id->has_scope("publish") && !id->has_scope("admin"))
      return send_error(http::status::forbidden, "forbidden",
                        "publishing needs a token with the publish or admin scope");
    auto parsed = parse_publish(req.body(), room);
    if (auto* err = std::get_if<command_error>(&parsed))
      return send_error(err->code == "too_large" ? http::status::payload_too_large
                                                 : http::status::bad_request,
                        err->code, err->message);
    auto cmd = std::get<msg::cmd_send>(std::move(parsed));
    actors::publish(state_->sys, state_->node, std::move(room),
                    anonymous_dev ? "server" : id->user, std::move(cmd.id), std::move(cmd.body),
                    [self = this->shared_from_this()](actors::frame f) {
                      asio::post(self->lowest().get_executor(), [self, f] {
                        self->send_json(status_of(f.json()), std::string{f.json()});
                      });
                    });
  }

  void presence(std::string room) {
    if (!valid_room_name(room))
      return send_error(http::status::bad_request, "bad_request",
                        "room must be 1-128 bytes of [A-Za-z0-9._:-]");
    if (!rest_identity(room))
      return;
    actors::room_presence(state_->sys, state_->node, std::move(room),
                          [self = this->shared_from_this()](std::string json) {
                            asio::post(self->stream_.get_executor(),
                                       [self, json = std::move(json)]() mutable {
                                         self->send_json(http::status::ok, std::move(json));
                                       });
                          });
  }

  void upgrade(request req) {
    if (!beast::websocket::is_upgrade(req))
      return send_error(http::status::upgrade_required, "bad_request",
                        "GET /ws needs a WebSocket upgrade");
    if (req[http::field::sec_websocket_version] != "13") {
      response res{http::status::upgrade_required, version_};
      res.set(http::field::sec_websocket_version, "13");
      return send(std::move(res), "bad_request", "WebSocket version must be 13");
    }
    auto key = req[http::field::sec_websocket_key];
    if (key.size() != 24)
      return send_error(http::status::bad_request, "bad_request",
                        "missing or malformed Sec-WebSocket-Key");
    if (!state_->accepting)
      return send_error(http::status::service_unavailable, "overloaded",
                        "the node is shutting down");
    if (auto origin = req.find(http::field::origin); origin != req.end()
        && !origin_allowed({origin->value().data(), origin->value().size()}))
      return send_error(http::status::forbidden, "forbidden", "origin not allowed");

    // A token (header or query), a dev-mode user, or neither: then the first
    // frame must be `auth` (see identify).
    std::optional<identity> id = caller_;
    // A socket that has yet to authenticate takes a place in a smaller budget
    // of its own (per node and per address), never a connection slot.
    std::unique_ptr<unauthenticated_ticket> pending;
    if (!id) {
      auto ticket = unauthenticated_ticket::take(state_, peer_);
      if (auto* no = std::get_if<refusal>(&ticket))
        return refuse(*no, 5);
      pending = std::move(std::get<0>(ticket));
    } else if (!state_->reserve_slot()) {
      return send_error(http::status::service_unavailable, "overloaded",
                        "too many connections on this node");
    }
    auto res = std::make_shared<http::response<http::empty_body>>(
      http::status::switching_protocols, version_);
    res->set(http::field::upgrade, "websocket");
    res->set(http::field::connection, "Upgrade");
    res->set(http::field::sec_websocket_accept,
             websocket_accept_key(std::string_view{key.data(), key.size()}));
    lowest().expires_never();
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res, id = std::move(id),
                       pending = std::move(pending)](error_code ec, size_t) mutable {
                        if (ec) {
                          if (!pending)
                            self->state_->release_slot();
                          return self->close();
                        }
                        auto early = beast::buffers_to_string(self->buffer_.data());
                        auto ws = std::make_shared<websocket_session>(
                          self->take_transport(), self->state_, std::move(id), std::move(pending));
                        ws->start(early);
                      });
  }

  // The credentials of a client request: a token (Authorization: Bearer or
  // ?token=) or a dev-mode ?user=. Leaves `id` empty when there are none.
  // Answers 401/400 itself and returns false when they are refused.
  bool client_identity(const request& req, const target& t, std::optional<identity>& id) {
    if (has_token(req, t)) {
      id = authenticate(req, t);
      return id.has_value();
    }
    auto* user = t.param("user");
    if (user == nullptr)
      return true;
    if (!state_->opts.auth->dev()) {
      send_error(http::status::unauthorized, "unauthorized",
                 "?user= is only accepted in --dev mode; send a token");
      return false;
    }
    auto dev = state_->opts.auth->dev_user(*user);
    if (auto* why = std::get_if<std::string>(&dev)) {
      send_error(http::status::bad_request, "bad_request", *why);
      return false;
    }
    id = std::get<identity>(std::move(dev));
    return true;
  }

  enum class credentials { none, optional, required, rest };

  // What a path needs: /ws may authenticate with its first frame instead (when
  // tokens can be verified); streams and /rpc must carry credentials; REST
  // takes a token, or reads anonymously in --dev mode.
  static credentials credentials_for(std::string_view path) {
    if (path == "/ws")
      return credentials::optional;
    if (path == "/sse" || path == "/poll" || path == "/rpc")
      return credentials::required;
    if (path.substr(0, 11) == "/api/rooms/")
      return credentials::rest;
    return credentials::none;
  }

  // Sets `caller_` from the request's credentials; answers 401 (or 400 for a
  // malformed dev-mode name) itself and returns false when there are none
  // that the path accepts.
  bool identify(const request& req, const target& t, credentials need) {
    if (!client_identity(req, t, caller_))
      return false;
    if (caller_)
      return true;
    auto& auth = *state_->opts.auth;
    switch (need) {
      case credentials::optional:
        if (auth.verifies_tokens())
          return true;
        send_error(http::status::unauthorized, "unauthorized",
                   "no credentials: connect with ?user=NAME (dev mode)");
        return false;
      case credentials::rest:
        if (auth.dev()) {
          caller_ = identity{}; // an anonymous reader of public rooms
          return true;
        }
        send_error(http::status::unauthorized, "unauthorized",
                   "no credentials: send Authorization: Bearer <token>");
        return false;
      default:
        send_error(http::status::unauthorized, "unauthorized",
                   auth.dev() ? "no credentials: send a token or ?user=NAME"
                              : "no credentials: send a token");
        return false;
    }
  }

  // The identity of an SSE, poll or /rpc request (route checked it is there).
  std::optional<identity> required_identity() const { return caller_; }

  // Checks what opening an SSE or poll stream needs: GET, a node that accepts
  // connections, an allowed origin, valid rooms and positions, credentials that
  // may access every room, a free connection slot. Answers 4xx/5xx itself.
  struct opened_stream {
    identity first;
    stream_request second;
    stream_budget budget;
  };

  std::optional<opened_stream> open_stream(const request& req, const target& t) {
    if (req.method() != http::verb::get) {
      send_error(http::status::method_not_allowed, "bad_request", "use GET");
      return std::nullopt;
    }
    if (!state_->accepting) {
      send_error(http::status::service_unavailable, "overloaded", "the node is shutting down");
      return std::nullopt;
    }
    if (auto origin = req.find(http::field::origin); origin != req.end()
        && !origin_allowed({origin->value().data(), origin->value().size()})) {
      send_error(http::status::forbidden, "forbidden", "origin not allowed");
      return std::nullopt;
    }
    std::optional<std::string_view> last_event_id;
    if (auto h = req.find("Last-Event-ID"); h != req.end())
      last_event_id = std::string_view{h->value().data(), h->value().size()};
    auto parsed = parse_stream_request(t, last_event_id);
    if (auto* why = std::get_if<std::string>(&parsed)) {
      send_error(http::status::bad_request, "bad_request", *why);
      return std::nullopt;
    }
    auto id = required_identity();
    if (!id)
      return std::nullopt;
    auto& sr = std::get<stream_request>(parsed);
    for (auto& room : sr.rooms)
      if (!id->may_access(room)) {
        send_error(http::status::forbidden, "forbidden", "not allowed in room '" + room + "'");
        return std::nullopt;
      }
    auto budget = stream_budget::take(state_, id->user, peer_);
    if (auto* no = std::get_if<refusal>(&budget)) {
      refuse(*no, poll_stream::idle_timeout.count());
      return std::nullopt;
    }
    return opened_stream{std::move(*id), std::move(sr),
                         std::move(std::get<stream_budget>(budget))};
  }

  // GET /sse: the response head goes out first, then the session owns the
  // connection and writes events until either side closes.
  void sse(const request& req, const target& t) {
    auto opened = open_stream(req, t);
    if (!opened)
      return;
    std::string head = "HTTP/1.1 200 OK\r\nServer: chatd\r\n"
                       "Content-Type: text/event-stream; charset=utf-8\r\n"
                       "Cache-Control: no-cache\r\nConnection: close\r\n"
                       "X-Accel-Buffering: no\r\n";
    if (!cors_origin_.empty())
      head += "Access-Control-Allow-Origin: " + cors_origin_ + "\r\nVary: Origin\r\n";
    head += "\r\n";
    lowest().expires_never();
    auto session = std::make_shared<sse_session>(take_transport(), state_,
                                                 std::move(opened->first),
                                                 std::move(opened->second), std::move(head),
                                                 std::move(opened->budget));
    session->start();
  }

  // GET /poll: without a cursor opens a stream (like /sse); with one, continues it.
  void poll(const request& req, const target& t) {
    uint64_t timeout_s = default_poll_timeout_s;
    if (auto* v = t.param("timeout")) {
      auto n = parse_uint(*v);
      if (!n || *n > max_poll_timeout_s)
        return send_error(http::status::bad_request, "bad_request",
                          "timeout must be 0-" + std::to_string(max_poll_timeout_s) + " seconds");
      timeout_s = *n;
    }
    std::shared_ptr<poll_stream> stream;
    uint64_t count = 0;
    if (auto* c = t.param("cursor")) {
      if (req.method() != http::verb::get)
        return send_error(http::status::method_not_allowed, "bad_request", "use GET");
      auto cursor = parse_cursor(*c);
      if (!cursor)
        return send_error(http::status::bad_request, "bad_request",
                          "invalid cursor: pass the cursor of the previous reply unchanged");
      auto id = required_identity();
      if (!id)
        return;
      stream = std::dynamic_pointer_cast<poll_stream>(state_->find_stream(cursor->stream));
      if (!stream)
        return send_error(http::status::bad_request, "bad_request",
                          "stale cursor: the stream is gone (expired or the node restarted); "
                          "poll again without a cursor (rooms, since)");
      if (stream->who().user != id->user)
        return send_error(http::status::forbidden, "forbidden",
                          "the cursor belongs to another user");
      count = cursor->count;
    } else {
      auto opened = open_stream(req, t);
      if (!opened)
        return;
      stream = std::make_shared<poll_stream>(state_, std::move(opened->first),
                                             std::move(opened->second),
                                             std::move(opened->budget));
      stream->start();
    }
    lowest().expires_never();
    stream->wait(count, std::chrono::seconds(timeout_s),
                 [self = this->shared_from_this()](poll_stream::result r) {
                   asio::post(self->lowest().get_executor(), [self, r = std::move(r)]() mutable {
                     self->send_json(static_cast<http::status>(r.status), std::move(r.body));
                   });
                 });
  }

  // POST /rpc?session=ID: one command for an SSE or poll stream of the same
  // user; the answer is the command's reply frame (its error code as the status).
  void rpc(const request& req, const target& t) {
    if (req.method() != http::verb::post)
      return send_error(http::status::method_not_allowed, "bad_request", "use POST");
    if (req[http::field::content_type].substr(0, 16) != "application/json")
      return send_error(http::status::unsupported_media_type, "bad_request",
                        "Content-Type must be application/json");
    auto* sid = t.param("session");
    if (sid == nullptr)
      return send_error(http::status::bad_request, "bad_request",
                        "?session= is required (from the SSE `session` event or a poll reply)");
    auto id = required_identity();
    if (!id)
      return;
    auto stream = state_->find_stream(*sid);
    if (!stream)
      return send_error(http::status::not_found, "not_found",
                        "no open stream with this session id; open /sse or /poll again");
    if (stream->who().user != id->user)
      return send_error(http::status::forbidden, "forbidden",
                        "the session belongs to another user");
    if (req.body().size() > state_->opts.max_frame_bytes)
      return send_error(http::status::payload_too_large, "too_large",
                        "a command frame is at most 128 KiB");
    auto parsed = parse_command(req.body());
    if (auto* err = std::get_if<command_error>(&parsed)) {
      auto f = actors::error_event(err->ref, err->code, err->message);
      return send_json(status_of(f.json()), std::string{f.json()});
    }
    stream->alive();
    lowest().expires_never();
    stream->call(std::get<command>(std::move(parsed)),
                 [self = this->shared_from_this()](actors::frame f) {
                   asio::post(self->lowest().get_executor(), [self, f] {
                     self->send_json(status_of(f.json()), std::string{f.json()});
                   });
                 });
  }

  void static_file(const request& req, std::string_view type, std::string_view content) {
    if (req.method() != http::verb::get && req.method() != http::verb::head)
      return send_error(http::status::method_not_allowed, "bad_request", "use GET");
    response res{http::status::ok, version_};
    res.set(http::field::content_type, beast::string_view{type.data(), type.size()});
    res.set(http::field::cache_control, "no-cache");
    res.body() = std::string{content};
    write(std::move(res), keep_alive_);
  }

  bool origin_allowed(std::string_view origin) const {
    auto& allowed = state_->opts.allowed_origins;
    return allowed.empty() || std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
  }

  static bool has_token(const request& req, const target& t) {
    return req.count(http::field::authorization) > 0 || t.param("token") != nullptr;
  }

  // Verifies the request's token (Authorization: Bearer, or ?token=). On
  // failure answers 401 (never echoing the token) and returns nothing.
  std::optional<identity> authenticate(const request& req, const target& t) {
    std::string_view token;
    if (auto h = req.find(http::field::authorization); h != req.end()) {
      auto bearer = bearer_token({h->value().data(), h->value().size()});
      if (!bearer) {
        send_error(http::status::unauthorized, "unauthorized",
                   "Authorization must be 'Bearer <token>'");
        return std::nullopt;
      }
      token = *bearer;
    } else {
      token = *t.param("token");
    }
    auto verified = state_->opts.auth->verify(token, runtime::wall_s());
    if (auto* why = std::get_if<std::string>(&verified)) {
      send_error(http::status::unauthorized, "unauthorized", *why);
      return std::nullopt;
    }
    return std::get<identity>(std::move(verified));
  }

  // The identity of a REST request (route resolved it), if it may access
  // `room`; answers 403 itself and returns nothing otherwise.
  std::optional<identity> rest_identity(const std::string& room) {
    auto id = caller_;
    if (!id->may_access(room)) {
      send_error(http::status::forbidden, "forbidden", "not allowed in room '" + room + "'");
      return std::nullopt;
    }
    return id;
  }

  void send_json(http::status status, std::string body) {
    response res{status, version_};
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    write(std::move(res), keep_alive_);
  }

  void send_error(http::status status, std::string_view code, std::string_view message,
                  bool keep_alive = true) {
    response res{status, version_};
    res.set(http::field::content_type, "application/json");
    res.body() = error_body(code, message);
    write(std::move(res), keep_alive && keep_alive_);
  }

  // A limit of the client's own: 429 with when to try again (an abandoned
  // stream or socket gives its place back within `retry_s`); the node's: 503.
  void refuse(const refusal& no, int64_t retry_s) {
    if (!no.per_client)
      return send_error(http::status::service_unavailable, "overloaded", no.why);
    response res{http::status::too_many_requests, version_};
    res.set(http::field::retry_after, std::to_string(retry_s));
    send(std::move(res), "rate_limited", no.why);
  }

  void send(response res, std::string_view code, std::string_view message) {
    res.set(http::field::content_type, "application/json");
    res.body() = error_body(code, message);
    write(std::move(res), keep_alive_);
  }

  // CORS preflight: allowed only for origins in --allowed-origins.
  void preflight() {
    if (cors_origin_.empty())
      return send_error(http::status::forbidden, "forbidden", "origin not allowed");
    response res{http::status::no_content, version_};
    res.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    res.set(http::field::access_control_allow_headers, "Authorization, Content-Type");
    res.set(http::field::access_control_max_age, "600");
    write(std::move(res), keep_alive_);
  }

  void write(response res, bool keep_alive) {
    res.set(http::field::server, "chatd");
    if (!cors_origin_.empty()) {
      res.set(http::field::access_control_allow_origin, cors_origin_);
      res.set(http::field::vary, "Origin");
    }
    res.keep_alive(keep_alive);
    res.prepare_payload();
    auto msg = std::make_shared<response>(std::move(res));
    http::async_write(stream_, *msg,
                      [self = this->shared_from_this(), msg, keep_alive](error_code ec, size_t) {
                        if (ec || !keep_alive)
                          return self->close();
                        self->do_read();
                      });
  }

  // A lingering close (RFC 9112 9.6): after the last response, read and
  // discard what the client still sends, for a moment and up to a bound, before
  // the socket is closed. Closing with unread bytes makes the kernel send a
  // reset, which can destroy the response (a 431, a 429) before the client
  // reads it.
  void close() {
    error_code ignored;
    lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    lowest().expires_after(std::chrono::seconds(2));
    buffer_.consume(buffer_.size());
    discard(0);
  }

  void discard(size_t discarded) {
    static constexpr size_t linger_bytes = 1 << 20;
    if (discarded >= linger_bytes)
      return;
    lowest().async_read_some(buffer_.prepare(4096), [self = this->shared_from_this(),
                                                     discarded](error_code ec, size_t n) {
      if (ec)
        return;
      self->buffer_.commit(n);
      self->buffer_.consume(n);
      self->discard(discarded + n);
    });
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // The upgraded connection's byte stream, for the WebSocket session.
  std::unique_ptr<transport> take_transport() {
    holds_socket_ = false;
    if constexpr (is_tls)
      return make_tls_transport(std::move(stream_));
    else
      return make_tcp_transport(stream_.release_socket());
  }

  Stream stream_;
  beast::flat_buffer buffer_{http_request::read_buffer_limit};
  std::optional<http_request::parser> parser_;
  http_request::checks checks_;
  std::shared_ptr<shared_state> state_;
  unsigned version_ = 11;
  std::string cors_origin_; ///< the request's Origin when it is allowed
  std::optional<identity> caller_; ///< who sent the current request (see identify)
  bool keep_alive_ = false;
  bool holds_socket_ = true; ///< false once the socket moved to a WebSocket or SSE session
  uint64_t requests_ = 0;    ///< requests read on this connection
  std::string peer_; ///< the client's address ("" when unknown)
};

} // namespace

void run_http_session(asio::ip::tcp::socket socket, std::shared_ptr<shared_state> state) {
  if (auto tls = state->tls)
    std::make_shared<http_session<tls_stream>>(std::move(socket), *tls, std::move(state))->run();
  else
    std::make_shared<http_session<beast::tcp_stream>>(std::move(socket), std::move(state))->run();
}

} // namespace chat::gateway
