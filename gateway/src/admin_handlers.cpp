#include "admin_handlers.hpp"

#include <boost/beast/http.hpp>

#include "chat/actors/node.hpp"

namespace chat::gateway::admin {

void room(http_exchange& ex, const request& req, const target&, std::string room) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  actors::inspect_room(ex.state->sys, ex.state->node, std::move(room),
                       [self = ex.shared_from_this()](const actors::frame& f) {
                         self->reply(frame_reply(f));
                       });
}

} // namespace chat::gateway::admin
