#include "http_router.hpp"

#include <algorithm>

#include <boost/beast/http.hpp>

#include "admin_handlers.hpp"
#include "chat/gateway/codec.hpp"
#include "http_credentials.hpp"
#include "rest_handlers.hpp"
#include "stream_handlers.hpp"

namespace chat::gateway {

namespace {

using actors::wire_error;

using handler = void (*)(http_exchange&, const request&, const target&);

struct route_entry {
  std::string_view path;
  credentials need;
  handler run;
};

// Every endpoint with a fixed path, and what it needs of the caller.
constexpr route_entry routes[] = {
  {"/ws", credentials::optional, streams::websocket},
  {"/sse", credentials::required, streams::sse},
  {"/poll", credentials::required, streams::poll},
  {"/rpc", credentials::required, streams::rpc},
  {"/", credentials::none, rest::index_page},
  {"/index.html", credentials::none, rest::index_page},
  {"/client.js", credentials::none, rest::client_js},
  {"/admin", credentials::none, rest::admin_page},
  {"/admin/", credentials::none, rest::admin_page},
  {"/metrics", credentials::none, rest::metrics},
  {"/healthz", credentials::none, rest::health},
  {"/readyz", credentials::none, rest::health},
  {"/debug/faults", credentials::none, rest::fault_control},
};

using room_handler = void (*)(http_exchange&, const request&, const target&, std::string);

// A room name in a path, checked once for every route that takes one.
bool valid_room(http_exchange& ex, const std::string& room) {
  if (valid_room_name(room))
    return true;
  ex.reply(error_reply(wire_error::bad_request, "room must be 1-128 bytes of [A-Za-z0-9._:-]"));
  return false;
}

bool valid_user(http_exchange& ex, const std::string& user) {
  if (valid_user_name(user))
    return true;
  ex.reply(error_reply(wire_error::bad_request, "user must be 1-64 bytes of [A-Za-z0-9._-]"));
  return false;
}

// /api/rooms/{room}/{what}: REST credentials (a token, or anonymous reads in
// --dev mode), and a room name checked here, once.
constexpr std::string_view rooms_prefix = "/api/rooms/";
constexpr std::pair<std::string_view, room_handler> room_routes[] = {
  {"presence", rest::presence},
  {"messages", rest::messages},
};

// /admin/api/...: a token with the admin scope (anyone in --dev).
constexpr std::string_view admin_prefix = "/admin/api/";

// "<prefix><name>" or "<prefix><name>/<what>": the name and what follows it.
struct named_path {
  std::string name;
  std::string_view what; ///< empty for "<prefix><name>"
};

std::optional<named_path> under(std::string_view path, std::string_view prefix) {
  if (path.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  auto rest = path.substr(prefix.size());
  auto slash = rest.find('/');
  if (slash == std::string_view::npos)
    return named_path{std::string{rest}, {}};
  return named_path{std::string{rest.substr(0, slash)}, rest.substr(slash + 1)};
}

void admin_route(http_exchange& ex, const request& req, const target& t) {
  // Every admin endpoint is a GET or a POST: another method is 405 whatever
  // the path names (before a bad name's 400).
  if (req.method() != http::verb::get && req.method() != http::verb::post)
    return ex.reply(method_not_allowed("use GET or POST"));
  auto path = std::string_view{t.path};
  if (path == "/admin/api/rooms")
    return admin::rooms(ex, req, t);
  if (path == "/admin/api/nodes")
    return admin::nodes(ex, req, t);
  if (path == "/admin/api/connections")
    return admin::connections(ex, req, t);
  if (path == "/admin/api/actors")
    return admin::actors(ex, req, t);
  if (path == "/admin/api/repair")
    return admin::repair(ex, req, t);
  room_handler run = nullptr;
  bool (*valid)(http_exchange&, const std::string&) = nullptr;
  std::optional<named_path> p;
  if ((p = under(path, "/admin/api/rooms/"))) {
    run = p->what.empty() ? admin::room : p->what == "passivate" ? admin::passivate : nullptr;
    valid = valid_room;
  } else if ((p = under(path, "/admin/api/connections/"))) {
    run = p->what.empty() ? admin::connection : p->what == "close" ? admin::close : nullptr;
    valid = admin::valid_connection_id;
  } else if ((p = under(path, "/admin/api/nodes/"))) {
    run = p->what == "remove" ? admin::remove_node : nullptr;
    valid = admin::valid_node_id;
  } else if ((p = under(path, "/admin/api/users/"))) {
    run = p->what == "presence" ? admin::presence : nullptr;
    valid = valid_user;
  }
  if (run != nullptr)
    return valid(ex, p->name) ? run(ex, req, t, std::move(p->name)) : void();
  ex.reply(error_reply(wire_error::not_found, "no such endpoint: " + t.path));
}

// CORS preflight: allowed only for origins in --allowed-origins.
void preflight(http_exchange& ex) {
  if (ex.cors_origin.empty())
    return ex.reply(error_reply(wire_error::forbidden, "origin not allowed"));
  http_reply r;
  r.status = http::status::no_content;
  r.content_type = {};
  r.headers = {{http::field::access_control_allow_methods, "GET, POST, OPTIONS"},
               {http::field::access_control_allow_headers, "Authorization, Content-Type"},
               {http::field::access_control_max_age, "600"}};
  ex.reply(std::move(r));
}

// A user's HTTP requests draw on the bucket its commands do (a kept-alive
// connection costs no new handshakes); answers 429 with Retry-After otherwise.
bool charge_user(http_exchange& ex) {
  int64_t retry_after = 0;
  if (ex.state->user_commands.take(ex.caller->user, retry_after))
    return true;
  auto r = error_reply(wire_error::rate_limited, "too many requests from this user");
  r.headers.emplace_back(http::field::retry_after, std::to_string((retry_after + 999) / 1000));
  ex.reply(std::move(r));
  return false;
}

void room_route(http_exchange& ex, const request& req, const target& t) {
  auto rest = std::string_view{t.path}.substr(rooms_prefix.size());
  auto slash = rest.find('/');
  if (slash != std::string_view::npos)
    for (auto& [what, run] : room_routes)
      if (rest.substr(slash + 1) == what) {
        auto room = std::string{rest.substr(0, slash)};
        return valid_room(ex, room) ? run(ex, req, t, std::move(room)) : void();
      }
  ex.reply(error_reply(wire_error::not_found, "no such endpoint: " + t.path));
}

} // namespace

void route(http_exchange& ex, request req) {
  ex.cors_origin.clear();
  if (auto origin = req.find(http::field::origin); origin != req.end()) {
    std::string o{origin->value().data(), origin->value().size()};
    auto& allowed = ex.state->opts.allowed_origins;
    if (std::find(allowed.begin(), allowed.end(), o) != allowed.end())
      ex.cors_origin = std::move(o);
  }
  if (req.method() == http::verb::options)
    return preflight(ex);
  auto t = parse_target(std::string_view{req.target().data(), req.target().size()});
  if (!t)
    return ex.reply(error_reply(wire_error::bad_request, "malformed request target"));
  auto entry = std::find_if(std::begin(routes), std::end(routes), [&](const route_entry& r) {
    return r.path == t->path;
  });
  bool rooms = t->path.compare(0, rooms_prefix.size(), rooms_prefix) == 0;
  bool admin = t->path.compare(0, admin_prefix.size(), admin_prefix) == 0;
  auto need = entry != std::end(routes) ? entry->need
              : rooms                   ? credentials::rest
              : admin                   ? credentials::admin
                                        : credentials::none;
  // Who asks comes before anything else about the request: a client without
  // valid credentials learns nothing of its shape (no 400 before the 401).
  if (!identify(ex, req, *t, need))
    return;
  // /ws and /rpc are charged per command instead.
  if (ex.caller && !ex.caller->user.empty() && t->path != "/ws" && t->path != "/rpc"
      && !charge_user(ex))
    return;
  if (entry != std::end(routes))
    return entry->run(ex, req, *t);
  if (rooms)
    return room_route(ex, req, *t);
  if (admin)
    return admin_route(ex, req, *t);
  ex.reply(error_reply(wire_error::not_found, "no such endpoint: " + t->path));
}

} // namespace chat::gateway
