#include "admin_handlers.hpp"

#include <boost/beast/http.hpp>

#include "chat/actors/node.hpp"
#include "chat/gateway/codec.hpp"

namespace chat::gateway::admin {

void room(http_exchange& ex, const request& req, const target&, std::string room) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  actors::inspect_room(ex.state->sys, ex.state->node, std::move(room), answer_with_frame(ex));
}

void rooms(http_exchange& ex, const request& req, const target& t) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  auto bad = [&](std::string why) {
    ex.reply(error_reply(actors::wire_error::bad_request, why));
  };
  uint64_t limit = 100;
  if (auto* v = t.param("limit")) {
    auto n = parse_uint(*v);
    if (!n || *n < 1 || *n > 500)
      return bad("'limit' must be an integer from 1 to 500");
    limit = *n;
  }
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
                     static_cast<uint32_t>(limit), answer_with_frame(ex));
}

void nodes(http_exchange& ex, const request& req, const target&) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  actors::list_nodes(ex.state->sys, ex.state->node, answer_with_frame(ex));
}

void passivate(http_exchange& ex, const request& req, const target&, std::string room) {
  if (req.method() != http::verb::post)
    return ex.reply(method_not_allowed("use POST"));
  actors::stop_room(ex.state->sys, ex.state->node, std::move(room), answer_with_frame(ex));
}

} // namespace chat::gateway::admin
