#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "chat/actors/commands.hpp"
#include "chat/actors/wire_error.hpp"

namespace chat::gateway {

/// Limits of PROTOCOL.md that the codec enforces.
inline constexpr size_t max_body_bytes = 64 * 1024;
inline constexpr size_t max_ref_bytes = 64;
inline constexpr size_t max_id_bytes = 64;
inline constexpr size_t max_room_bytes = 128;
inline constexpr uint32_t max_history_limit = 200;
inline constexpr uint32_t default_history_limit = 50;
inline constexpr size_t max_signal_bytes = 64 * 1024;
inline constexpr size_t max_watch_users = 1000;
/// Deeper JSON is refused before it is parsed (no recursion bombs).
inline constexpr size_t max_json_depth = 32;

/// An application-level ping: answered with `pong` by the gateway itself.
struct cmd_ping {
  std::string ref;
};

/// `auth`: a token sent as the first frame instead of at the handshake.
struct cmd_auth {
  std::string ref;
  std::string token;
};

template <class List, class... Extra>
struct variant_of;
template <class... Ts, class... Extra>
struct variant_of<msg::type_list<Ts...>, Extra...> {
  using type = std::variant<Ts..., Extra...>;
};

/// Every client command: those the connection actor executes (one list,
/// msg::actor_commands) and those the gateway answers itself.
using command = variant_of<msg::actor_commands, cmd_ping, cmd_auth>::type;

/// Why a frame was refused: a protocol error code and a human message.
struct command_error {
  std::string ref; ///< the frame's ref when it could be read, else empty
  actors::wire_error code = actors::wire_error::bad_request;
  std::string message;
};

/// The protocol's `type` of the command at `index` of the `command` variant
/// ("join", "ping", ...), for metrics.
[[nodiscard]] std::string_view command_name(size_t index);

/// Parses and validates one client frame (UTF-8 JSON text).
[[nodiscard]] std::variant<command, command_error> parse_command(std::string_view text);

/// Parses the body of `POST /api/rooms/{room}/messages`: `{"id":..,"body":..}`,
/// with the same rules as a `send` (the room comes from the path).
[[nodiscard]] std::variant<msg::cmd_send, command_error> parse_publish(std::string_view text,
                                                                       std::string room);

/// True for 1-128 bytes of [A-Za-z0-9._:-].
[[nodiscard]] bool valid_room_name(std::string_view room);

/// True for 1-64 bytes of [A-Za-z0-9._-] (dev-mode `?user=`).
[[nodiscard]] bool valid_user_name(std::string_view user);

/// Checks the history window shared by the `history` command and the REST API.
/// Returns an empty string when fine, else the reason.
[[nodiscard]] std::string check_history_window(const msg::history_window& w, bool has_before);

} // namespace chat::gateway
