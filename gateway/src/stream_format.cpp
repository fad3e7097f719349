#include "chat/gateway/stream_format.hpp"

#include <algorithm>

#include "chat/gateway/codec.hpp"

namespace chat::gateway {

namespace {

std::vector<std::string_view> split(std::string_view list, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    auto end = list.find(sep, start);
    out.push_back(list.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos)
      return out;
    start = end + 1;
  }
}

// Whether `key` is next at `pos` (which may be past the end).
bool next_is(std::string_view json, size_t pos, std::string_view key) {
  return pos <= json.size() && json.substr(pos, key.size()) == key;
}

// The number after `"key":` in `json` at `pos`, if the key comes next.
std::optional<uint64_t> number_field(std::string_view json, std::string_view key, size_t& pos) {
  if (!next_is(json, pos, key))
    return std::nullopt;
  pos += key.size();
  auto end = json.find_first_not_of("0123456789", pos);
  auto n = parse_uint(json.substr(pos, end == std::string_view::npos ? end : end - pos));
  pos = end;
  return n;
}

std::string_view string_field(std::string_view json, std::string_view key, size_t& pos) {
  if (!next_is(json, pos, key))
    return {};
  auto start = pos + key.size();
  auto end = json.find('"', start); // room names and types never need escapes
  if (end == std::string_view::npos)
    return {};
  pos = end + 1;
  return json.substr(start, end - start);
}

} // namespace

std::variant<std::vector<room_position>, std::string> parse_positions(std::string_view list) {
  std::vector<room_position> out;
  for (auto item : split(list, ',')) {
    auto colon = item.rfind(':');
    if (colon == std::string_view::npos)
      return "'" + std::string{item.substr(0, 64)} + "' is not room:seq";
    auto room = item.substr(0, colon);
    if (!valid_room_name(room))
      return "'" + std::string{room.substr(0, 64)} + "' is not a valid room name";
    auto seq = parse_uint(item.substr(colon + 1));
    if (!seq)
      return "the seq of '" + std::string{room} + "' must be a non-negative integer";
    out.emplace_back(std::string{room}, *seq);
    if (out.size() > max_stream_rooms)
      return "more than " + std::to_string(max_stream_rooms) + " room positions";
  }
  return out;
}

std::variant<stream_request, std::string>
parse_stream_request(const target& t, std::optional<std::string_view> last_event_id) {
  stream_request req;
  if (auto* rooms = t.param("rooms"); rooms != nullptr && !rooms->empty()) {
    for (auto room : split(*rooms, ',')) {
      if (!valid_room_name(room))
        return "rooms: '" + std::string{room.substr(0, 64)}
               + "' is not a valid room name (1-128 bytes of [A-Za-z0-9._:-])";
      if (std::find(req.rooms.begin(), req.rooms.end(), room) == req.rooms.end())
        req.rooms.emplace_back(room);
      if (req.rooms.size() > max_stream_rooms)
        return "rooms: more than " + std::to_string(max_stream_rooms) + " rooms";
    }
  }
  req.since.resize(req.rooms.size());
  // `since` may only name rooms of `rooms=`; Last-Event-ID also restores rooms
  // the stream had joined later (through POST /rpc).
  auto apply = [&](std::string_view what, std::string_view list, bool adds) -> std::string {
    auto parsed = parse_positions(list);
    if (auto* why = std::get_if<std::string>(&parsed))
      return std::string{what} + ": " + *why;
    for (auto& [room, seq] : std::get<std::vector<room_position>>(parsed)) {
      auto i = std::find(req.rooms.begin(), req.rooms.end(), room);
      if (i == req.rooms.end()) {
        if (!adds)
          return std::string{what} + ": room '" + room + "' is not in rooms=";
        if (req.rooms.size() == max_stream_rooms)
          return std::string{what} + ": more than " + std::to_string(max_stream_rooms)
                 + " rooms";
        req.rooms.push_back(room);
        req.since.emplace_back();
        i = req.rooms.end() - 1;
      }
      req.since[static_cast<size_t>(i - req.rooms.begin())] = seq;
    }
    return {};
  };
  if (auto* since = t.param("since"); since != nullptr && !since->empty())
    if (auto why = apply("since", *since, false); !why.empty())
      return why;
  if (last_event_id && !last_event_id->empty())
    if (auto why = apply("Last-Event-ID", *last_event_id, true); !why.empty())
      return why;
  return req;
}

std::string format_cursor(const poll_cursor& c) {
  return c.stream + "." + std::to_string(c.count);
}

std::optional<poll_cursor> parse_cursor(std::string_view text) {
  // Stream ids are 32 lowercase hex digits; the count fits 20 digits.
  constexpr size_t id_len = 32;
  if (text.size() < id_len + 2 || text.size() > id_len + 21 || text[id_len] != '.')
    return std::nullopt;
  auto id = text.substr(0, id_len);
  if (id.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    return std::nullopt;
  auto count = parse_uint(text.substr(id_len + 1));
  if (!count)
    return std::nullopt;
  return poll_cursor{std::string{id}, *count};
}

event_meta read_event_meta(std::string_view json) {
  event_meta m;
  size_t pos = 1;
  m.type = string_field(json, R"("type":")", pos);
  if (m.type != "message" && m.type != "joined")
    return m;
  // `ref` may come between type and room in a reply (`joined`).
  if (next_is(json, pos, R"(,"ref":)")) {
    auto room_at = json.find(R"(,"room":")", pos);
    if (room_at == std::string_view::npos)
      return m;
    pos = room_at;
  }
  m.room = string_field(json, R"(,"room":")", pos);
  if (m.room.empty())
    return m;
  if (auto seq = number_field(json, R"(,"seq":)", pos))
    m.seq = *seq;
  else
    m.room = {};
  return m;
}

void append_sse_event(std::string& out, std::string_view id, std::string_view type,
                      std::string_view json) {
  if (!id.empty()) {
    out += "id: ";
    out += id;
    out += '\n';
  }
  out += "event: ";
  out += type;
  out += "\ndata: ";
  out += json; // compact JSON never contains a raw newline
  out += "\n\n";
}

std::string sse_event_id(std::string_view room, uint64_t seq,
                         const std::vector<room_position>& positions) {
  std::string id{room};
  id += ':';
  id += std::to_string(seq);
  for (auto& [r, s] : positions) {
    if (r == room)
      continue;
    id += ',';
    id += r;
    id += ':';
    id += std::to_string(s);
  }
  return id;
}

std::string poll_reply_body(const std::vector<std::string_view>& events,
                            std::string_view cursor, std::string_view session) {
  size_t size = 64 + cursor.size() + session.size();
  for (auto e : events)
    size += e.size() + 1;
  std::string out;
  out.reserve(size);
  out += R"({"events":[)";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0)
      out += ',';
    out += events[i];
  }
  out += R"(],"cursor":")";
  out += cursor; // hex, '.', digits: no escaping needed
  out += R"(","session":")";
  out += session;
  out += R"("})";
  return out;
}

} // namespace chat::gateway
