#include "admin_handlers.hpp"

#include <boost/beast/http.hpp>

#include "chat/actors/node.hpp"

namespace chat::gateway::admin {

void room(http_exchange& ex, const request& req, const target&, std::string room) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  actors::inspect_room(ex.state->sys, ex.state->node, std::move(room), answer_with_frame(ex));
}

void passivate(http_exchange& ex, const request& req, const target&, std::string room) {
  if (req.method() != http::verb::post)
    return ex.reply(method_not_allowed("use POST"));
  actors::stop_room(ex.state->sys, ex.state->node, std::move(room), answer_with_frame(ex));
}

} // namespace chat::gateway::admin
