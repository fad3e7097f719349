#pragma once

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace chat::actors {

/// Errors between actors. The connection actor maps them once to the protocol's
/// error codes (PROTOCOL.md "Error codes").
enum class errc : uint8_t {
  storage_failed = 1, ///< the store could not read or commit -> `internal`
  room_unavailable,   ///< the room's actor could not be reached -> `unavailable`
  not_joined,         ///< a room command from a non-member -> `not_joined`
  bad_argument,       ///< a well-formed command the room refuses -> `bad_request`
  not_found,          ///< e.g. a signal to a user not in the room -> `not_found`
  overloaded,         ///< a queue is at its high-water mark -> `overloaded`
  fenced, ///< a write under an older ballot than a replica promised (ADR 8) -> `unavailable`
  storage_full, ///< the store cannot write now (a full disk); nothing written -> `unavailable`
};

std::string to_string(errc x);

} // namespace chat::actors

CAF_ERROR_CODE_ENUM(chat::actors::errc, "chat")
