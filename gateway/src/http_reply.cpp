#include "chat/actors/events.hpp"
#include "http_exchange.hpp"
#include "http_status.hpp"

namespace chat::gateway {

std::function<void(const actors::frame&)> answer_with_frame(http_exchange& ex) {
  return [self = ex.shared_from_this()](const actors::frame& f) {
    self->reply(frame_reply(f));
  };
}

http_reply json_reply(http::status status, std::string body) {
  http_reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http_reply error_reply(actors::wire_error code, std::string_view message,
                       std::optional<http::status> status) {
  // The same error frame a WebSocket client gets (no ref: a request has none).
  auto f = actors::error_event("", code, message);
  return json_reply(status ? *status : static_cast<http::status>(http_status_for(code)),
                    std::string{f.json()});
}

http_reply method_not_allowed(std::string_view allowed) {
  return error_reply(actors::wire_error::bad_request, allowed,
                     http::status::method_not_allowed);
}

http_reply frame_reply(const actors::frame& f) {
  return json_reply(static_cast<http::status>(http_status_for(f.error())),
                    std::string{f.json()});
}

http_reply refusal_reply(const refusal& no, int64_t retry_s) {
  if (!no.per_client)
    return error_reply(actors::wire_error::overloaded, no.why);
  auto r = error_reply(actors::wire_error::rate_limited, no.why);
  r.headers.emplace_back(http::field::retry_after, std::to_string(retry_s));
  return r;
}

} // namespace chat::gateway
