#include "admin_handlers.hpp"

#include <optional>

#include <boost/beast/http.hpp>

#include "chat/actors/node.hpp"
#include "chat/gateway/codec.hpp"
#include "chat/runtime/config.hpp"

namespace chat::gateway::admin {

void room(http_exchange& ex, const request& req, const target&, std::string room) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  actors::inspect_room(ex.state->sys, ex.state->node, std::move(room), answer_with_frame(ex));
}

namespace {

void bad_request(http_exchange& ex, std::string why) {
  ex.reply(error_reply(actors::wire_error::bad_request, std::move(why)));
}

// A list's `limit` (1-500, default 100); replies 400 and returns nothing when wrong.
std::optional<uint32_t> page_limit(http_exchange& ex, const target& t) {
  uint64_t limit = 100;
  if (auto* v = t.param("limit")) {
    auto n = parse_uint(*v);
    if (!n || *n < 1 || *n > 500) {
      bad_request(ex, "'limit' must be an integer from 1 to 500");
      return std::nullopt;
    }
    limit = *n;
  }
  return static_cast<uint32_t>(limit);
}

// A list's `node` (empty: every node, or this one); replies 400 and returns
// nothing when it cannot be a node id.
std::optional<std::string> node_param(http_exchange& ex, const target& t) {
  auto* v = t.param("node");
  if (v == nullptr || v->empty())
    return std::string{};
  if (valid_room_name(*v))
    return *v;
  bad_request(ex, "'node' must be a node id, as GET /admin/api/nodes lists them");
  return std::nullopt;
}

} // namespace

void rooms(http_exchange& ex, const request& req, const target& t) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  auto bad = [&](std::string why) {
    bad_request(ex, std::move(why));
  };
  auto limit = page_limit(ex, t);
  if (!limit)
    return;
  std::string prefix;
  if (auto* v = t.param("prefix"); v != nullptr && !v->empty()) {
    // A prefix of a room name: its characters (and length) are a room name's.
    if (!valid_room_name(*v))
      return bad("'prefix' must be 1-128 bytes of [A-Za-z0-9._:-]");
    prefix = *v;
  }
  std::string cursor;
  if (auto* v = t.param("cursor"); v != nullptr && !v->empty()) {
    if (!valid_room_name(*v))
      return bad("'cursor' must be the 'next' of an earlier page");
    cursor = *v;
  }
  actors::list_rooms(ex.state->sys, ex.state->node, std::move(prefix), std::move(cursor),
                     *limit, answer_with_frame(ex));
}

void nodes(http_exchange& ex, const request& req, const target&) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  actors::list_nodes(ex.state->sys, ex.state->node, answer_with_frame(ex));
}

void repair(http_exchange& ex, const request& req, const target&) {
  if (req.method() != http::verb::post)
    return ex.reply(method_not_allowed("use POST"));
  actors::repair_rooms(ex.state->sys, ex.state->node, answer_with_frame(ex));
}

void remove_node(http_exchange& ex, const request& req, const target&, std::string id) {
  if (req.method() != http::verb::post)
    return ex.reply(method_not_allowed("use POST"));
  ex.expires_never(); // every node up repairs first: longer than --request-timeout-ms
  actors::remove_member(ex.state->sys, ex.state->node, std::move(id), answer_with_frame(ex));
}

bool valid_node_id(http_exchange& ex, const std::string& id) {
  if (runtime::valid_node_id(id))
    return true;
  bad_request(ex, "a node id is 1-64 characters of [A-Za-z0-9._-]");
  return false;
}

void passivate(http_exchange& ex, const request& req, const target&, std::string room) {
  if (req.method() != http::verb::post)
    return ex.reply(method_not_allowed("use POST"));
  actors::stop_room(ex.state->sys, ex.state->node, std::move(room), answer_with_frame(ex));
}

bool valid_connection_id(http_exchange& ex, const std::string& id) {
  // Node ids and numbers: the characters (and length) of a room name.
  if (valid_room_name(id) && id.find(':') != std::string::npos)
    return true;
  bad_request(ex, "a connection id is <node>:<number>, as the connection list gives it");
  return false;
}

void connections(http_exchange& ex, const request& req, const target& t) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  auto limit = page_limit(ex, t);
  if (!limit)
    return;
  std::string user;
  if (auto* v = t.param("user"); v != nullptr && !v->empty()) {
    if (!valid_user_name(*v))
      return bad_request(ex, "'user' must be 1-64 bytes of [A-Za-z0-9._-]");
    user = *v;
  }
  auto node = node_param(ex, t);
  if (!node)
    return;
  std::string cursor;
  if (auto* v = t.param("cursor"); v != nullptr && !v->empty()) {
    if (!valid_room_name(*v))
      return bad_request(ex, "'cursor' must be the 'next' of an earlier page");
    cursor = *v;
  }
  actors::list_connections(ex.state->sys, ex.state->node, std::move(user), std::move(*node),
                           std::move(cursor), *limit, answer_with_frame(ex));
}

void connection(http_exchange& ex, const request& req, const target&, std::string id) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  actors::inspect_connection(ex.state->sys, ex.state->node, std::move(id),
                             answer_with_frame(ex));
}

void close(http_exchange& ex, const request& req, const target&, std::string id) {
  if (req.method() != http::verb::post)
    return ex.reply(method_not_allowed("use POST"));
  actors::close_connection(ex.state->sys, ex.state->node, std::move(id), answer_with_frame(ex));
}

void actors(http_exchange& ex, const request& req, const target& t) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  auto node = node_param(ex, t);
  if (!node)
    return;
  actors::inspect_actors(ex.state->sys, ex.state->node, std::move(*node),
                         answer_with_frame(ex));
}

void presence(http_exchange& ex, const request& req, const target&, std::string user) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  actors::inspect_presence(ex.state->sys, ex.state->node, std::move(user),
                           answer_with_frame(ex));
}

} // namespace chat::gateway::admin
