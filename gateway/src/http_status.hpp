#pragma once

#include "chat/actors/wire_error.hpp"

namespace chat::gateway {

/// The HTTP status of a reply whose frame carries `code` (200 for none): the one
/// place where protocol error codes become statuses (PROTOCOL.md "Error codes").
[[nodiscard]] constexpr unsigned http_status_for(actors::wire_error code) noexcept {
  using e = actors::wire_error;
  switch (code) {
    case e::none:
      return 200;
    case e::bad_request:
      return 400;
    case e::unauthorized:
      return 401;
    case e::forbidden:
      return 403;
    case e::not_found:
      return 404;
    case e::not_joined:
      return 409;
    case e::too_large:
      return 413;
    case e::rate_limited:
      return 429;
    case e::overloaded:
    case e::unavailable:
      return 503;
    case e::internal:
      return 500;
  }
  return 500;
}

} // namespace chat::gateway
