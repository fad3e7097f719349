#pragma once

#include <cstdint>
#include <string_view>

namespace chat::actors {

/// The protocol's error codes (PROTOCOL.md "Error codes"): what an error frame
/// says in `code`. A frame keeps its code as this value next to its JSON, so
/// that an HTTP reply's status is mapped from it once (gateway/src/http_reply.cpp)
/// and never found again by reading the text.
enum class wire_error : uint8_t {
  none, ///< not an error frame
  bad_request,
  unauthorized,
  forbidden,
  not_joined,
  too_large,
  rate_limited,
  overloaded,
  unavailable,
  not_found,
  internal,
};

/// The code as the protocol spells it ("" for `none`).
[[nodiscard]] constexpr std::string_view wire_name(wire_error e) noexcept {
  switch (e) {
    case wire_error::none:
      return "";
    case wire_error::bad_request:
      return "bad_request";
    case wire_error::unauthorized:
      return "unauthorized";
    case wire_error::forbidden:
      return "forbidden";
    case wire_error::not_joined:
      return "not_joined";
    case wire_error::too_large:
      return "too_large";
    case wire_error::rate_limited:
      return "rate_limited";
    case wire_error::overloaded:
      return "overloaded";
    case wire_error::unavailable:
      return "unavailable";
    case wire_error::not_found:
      return "not_found";
    case wire_error::internal:
      return "internal";
  }
  return "internal";
}

/// The highest value, for checks on values that crossed nodes.
inline constexpr wire_error last_wire_error = wire_error::internal;

} // namespace chat::actors
