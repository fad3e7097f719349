#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "chat/gateway/http_query.hpp"

namespace chat::gateway {

// What the SSE and long-poll endpoints read from a request and write back:
// their parameters, the poll cursor, and the text of SSE events and poll
// replies. Pure functions, unit-tested and fuzzable without a server.

/// Rooms one SSE or poll stream may name in `rooms=`.
inline constexpr size_t max_stream_rooms = 100;
/// Longest poll `timeout`, in seconds (default 25).
inline constexpr uint64_t max_poll_timeout_s = 60;
inline constexpr uint64_t default_poll_timeout_s = 25;

/// A room and the last seq the client has of it (`since`, `Last-Event-ID`).
using room_position = std::pair<std::string, uint64_t>;

/// What `GET /sse` and a first `GET /poll` ask for: the rooms to join and, per
/// room, where to resume (absent = live only).
struct stream_request {
  std::vector<std::string> rooms;
  std::vector<std::optional<uint64_t>> since; ///< parallel to `rooms`
};

/// Parses `rooms=a,b`, `since=a:12,b:40` and the `Last-Event-ID` header (same
/// form; it wins over `since` for the rooms it names, and adds the rooms missing
/// from `rooms`, which the stream joined later). Returns the reason on bad input:
/// a malformed list, a bad room name, a `since` for a room not in `rooms`, more
/// than `max_stream_rooms` rooms.
[[nodiscard]] std::variant<stream_request, std::string>
parse_stream_request(const target& t, std::optional<std::string_view> last_event_id);

/// Parses `room:seq,room:seq` (a room name may itself contain ':'; the seq
/// follows the last one).
[[nodiscard]] std::variant<std::vector<room_position>, std::string>
parse_positions(std::string_view list);

/// A poll cursor: the stream it belongs to and how many events the client has.
struct poll_cursor {
  std::string stream;
  uint64_t count = 0;
};

/// Opaque to clients: `<stream id>.<count>`.
[[nodiscard]] std::string format_cursor(const poll_cursor& c);
/// Nothing for anything that is not a cursor this server could have made.
[[nodiscard]] std::optional<poll_cursor> parse_cursor(std::string_view text);

/// The few fields of an outgoing event the SSE stream needs (for `event:` and
/// `id:`), read from the JSON our encoders write (type first, then room, seq).
struct event_meta {
  std::string_view type;
  std::string_view room; ///< `message` and `joined` only
  uint64_t seq = 0;
};
[[nodiscard]] event_meta read_event_meta(std::string_view json);

/// Appends one SSE event: an `id:` line when `id` is not empty, `event:`, `data:`.
void append_sse_event(std::string& out, std::string_view id, std::string_view type,
                      std::string_view json);

/// The `id:` of an event in `room` at `seq`: that position first, then every
/// other known room position, comma-separated (so that a resume with
/// `Last-Event-ID` restores every room of the stream, not just the last one).
[[nodiscard]] std::string sse_event_id(std::string_view room, uint64_t seq,
                                       const std::vector<room_position>& positions);

/// The body of a poll reply: `{"events":[...],"cursor":"...","session":"..."}`.
[[nodiscard]] std::string poll_reply_body(const std::vector<std::string_view>& events,
                                          std::string_view cursor, std::string_view session);

} // namespace chat::gateway
