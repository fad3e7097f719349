#include "chat/gateway/codec.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <optional>

namespace chat::gateway {

namespace {

using json = nlohmann::json;

bool name_chars(std::string_view s, bool allow_colon) {
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '.' || c == '_' || c == '-' || (allow_colon && c == ':')))
      return false;
  return true;
}

// Counts nesting outside strings; refuses deep documents before the parser
// (and its recursive destructor) ever sees them.
bool too_deep(std::string_view text) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_json_depth)
        return true;
    } else if (c == '}' || c == ']') {
      if (depth > 0)
        --depth;
    }
  }
  return false;
}

struct reader {
  const json& obj;
  std::string ref;

  command_error fail(std::string message,
                     actors::wire_error code = actors::wire_error::bad_request) const {
    return command_error{ref, code, std::move(message)};
  }

  // A required string field.
  const std::string* string(const char* key) const {
    auto i = obj.find(key);
    return i != obj.end() && i->is_string() ? i->get_ptr<const std::string*>() : nullptr;
  }

  // An optional unsigned integer: absent -> true with has=false; wrong type -> false.
  bool optional_uint(const char* key, uint64_t& out, bool& has) const {
    has = false;
    auto i = obj.find(key);
    if (i == obj.end() || i->is_null())
      return true;
    if (!i->is_number_unsigned())
      return false;
    out = i->get<uint64_t>();
    has = true;
    return true;
  }
};

std::optional<command_error> read_room(const reader& r, std::string& out) {
  auto* room = r.string("room");
  if (room == nullptr)
    return r.fail("'room' must be a string");
  if (!valid_room_name(*room))
    return r.fail("'room' must be 1-128 bytes of [A-Za-z0-9._:-]");
  out = *room;
  return std::nullopt;
}

using parsed = std::variant<command, command_error>;

parsed parse_join(const reader& r) {
  msg::cmd_join cmd{r.ref, {}, false, 0};
  if (auto e = read_room(r, cmd.room))
    return *e;
  if (!r.optional_uint("since", cmd.since, cmd.has_since))
    return r.fail("'since' must be a non-negative integer");
  return cmd;
}

// A command that names a room and nothing else.
template <class Cmd>
parsed parse_room_only(const reader& r) {
  Cmd cmd{r.ref, {}};
  if (auto e = read_room(r, cmd.room))
    return *e;
  return cmd;
}

parsed parse_send(const reader& r) {
  msg::cmd_send cmd{r.ref, {}, {}, {}};
  if (auto e = read_room(r, cmd.room))
    return *e;
  auto* id = r.string("id");
  if (id == nullptr || id->empty() || id->size() > max_id_bytes)
    return r.fail("'id' must be a string of 1-64 bytes");
  cmd.id = *id;
  auto body = r.obj.find("body");
  if (body == r.obj.end())
    return r.fail("'body' is required");
  cmd.body = body->dump();
  if (cmd.body.size() > max_body_bytes)
    return r.fail("'body' is larger than 64 KiB", actors::wire_error::too_large);
  return cmd;
}

parsed parse_history(const reader& r) {
  msg::cmd_history cmd;
  cmd.ref = r.ref;
  if (auto e = read_room(r, cmd.room))
    return *e;
  bool has_before = false;
  uint64_t limit = default_history_limit;
  bool has_limit = false;
  uint64_t after = 0;
  bool has_after = false;
  if (!r.optional_uint("before", cmd.window.before, has_before))
    return r.fail("'before' must be a non-negative integer");
  if (!r.optional_uint("after", after, has_after))
    return r.fail("'after' must be a non-negative integer");
  if (has_after)
    cmd.window.after = after;
  if (!r.optional_uint("limit", limit, has_limit))
    return r.fail("'limit' must be an integer from 1 to 200");
  cmd.window.limit =
    limit > max_history_limit ? max_history_limit + 1 : static_cast<uint32_t>(limit);
  if (auto why = check_history_window(cmd.window, has_before); !why.empty())
    return r.fail(std::move(why));
  return cmd;
}

parsed parse_read(const reader& r) {
  msg::cmd_read cmd{r.ref, {}, 0};
  if (auto e = read_room(r, cmd.room))
    return *e;
  bool has_seq = false;
  if (!r.optional_uint("seq", cmd.seq, has_seq) || !has_seq)
    return r.fail("'seq' must be a non-negative integer");
  return cmd;
}

parsed parse_presence(const reader& r) {
  auto users = r.obj.find("users");
  if (users == r.obj.end() || !users->is_array())
    return r.fail("'users' must be an array of user names");
  if (users->size() > max_watch_users)
    return r.fail("'users' may list at most 1000 users");
  msg::cmd_presence cmd{r.ref, {}};
  cmd.users.reserve(users->size());
  for (auto& u : *users) {
    if (!u.is_string() || !valid_user_name(u.get_ref<const std::string&>()))
      return r.fail("each user must be 1-64 bytes of [A-Za-z0-9._-]");
    cmd.users.push_back(u.get<std::string>());
  }
  return cmd;
}

parsed parse_signal(const reader& r) {
  msg::cmd_signal cmd{r.ref, {}, {}, {}};
  if (auto e = read_room(r, cmd.room))
    return *e;
  auto* to = r.string("to");
  if (to == nullptr || !valid_user_name(*to))
    return r.fail("'to' must be a user name (1-64 bytes of [A-Za-z0-9._-])");
  cmd.to = *to;
  auto data = r.obj.find("data");
  if (data == r.obj.end())
    return r.fail("'data' is required");
  cmd.data = data->dump();
  if (cmd.data.size() > max_signal_bytes)
    return r.fail("'data' is larger than 64 KiB", actors::wire_error::too_large);
  return cmd;
}

parsed parse_auth(const reader& r) {
  auto* token = r.string("token");
  if (token == nullptr)
    return r.fail("'token' must be a string");
  return cmd_auth{r.ref, *token};
}

parsed parse_ping(const reader& r) {
  return cmd_ping{r.ref};
}

// Every command type the protocol knows, and its parser.
constexpr std::pair<std::string_view, parsed (*)(const reader&)> parsers[] = {
  {"ping", parse_ping},
  {"join", parse_join},
  {"leave", parse_room_only<msg::cmd_leave>},
  {"send", parse_send},
  {"history", parse_history},
  {"typing", parse_room_only<msg::cmd_typing>},
  {"read", parse_read},
  {"presence", parse_presence},
  {"signal", parse_signal},
  {"auth", parse_auth},
};

// In the order of the `command` variant (msg::actor_commands, then ping, auth).
constexpr std::string_view command_names[] = {"join", "leave",    "send",   "history", "typing",
                                              "read", "presence", "signal", "ping",    "auth"};
static_assert(std::size(command_names) == std::variant_size_v<command>,
              "a name for each command (codec_test checks the order)");

parsed parse_object(const json& obj) {
  reader r{obj, {}};
  if (auto i = obj.find("ref"); i != obj.end()) {
    if (!i->is_string() && !i->is_number_integer())
      return r.fail("'ref' must be a string or an integer");
    auto raw = i->dump();
    if ((i->is_string() && i->get_ptr<const std::string*>()->size() > max_ref_bytes)
        || raw.size() > max_ref_bytes + 2)
      return r.fail("'ref' must be at most 64 bytes");
    r.ref = std::move(raw);
  }
  auto* type = r.string("type");
  if (type == nullptr)
    return r.fail("'type' must be a string");
  for (auto& [name, parse] : parsers)
    if (*type == name)
      return parse(r);
  return r.fail("unknown type '" + type->substr(0, 32) + "'");
}

} // namespace

bool valid_room_name(std::string_view room) {
  return !room.empty() && room.size() <= max_room_bytes && name_chars(room, true);
}

bool valid_user_name(std::string_view user) {
  return !user.empty() && user.size() <= 64 && name_chars(user, false);
}

std::string check_history_window(const msg::history_window& w, bool has_before) {
  if (has_before && w.after)
    return "give 'before' or 'after', not both";
  if (has_before && w.before == 0)
    return "'before' must be at least 1";
  if (w.limit < 1 || w.limit > max_history_limit)
    return "'limit' must be an integer from 1 to 200";
  return {};
}

std::variant<msg::cmd_send, command_error> parse_publish(std::string_view text,
                                                         std::string room) {
  if (too_deep(text))
    return command_error{
      {}, actors::wire_error::bad_request, "JSON nested deeper than 32 levels"};
  auto doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return command_error{{},
                         actors::wire_error::bad_request,
                         "body must be a JSON object {\"id\":..,\"body\":..}"};
  doc["type"] = "send";
  doc["room"] = std::move(room);
  auto parsed = parse_object(doc);
  if (auto* err = std::get_if<command_error>(&parsed))
    return std::move(*err);
  return std::get<msg::cmd_send>(std::get<command>(std::move(parsed)));
}

std::variant<command, command_error> parse_command(std::string_view text) {
  if (too_deep(text))
    return command_error{
      {}, actors::wire_error::bad_request, "JSON nested deeper than 32 levels"};
  auto doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded())
    return command_error{{}, actors::wire_error::bad_request, "frame is not valid JSON"};
  if (!doc.is_object())
    return command_error{{}, actors::wire_error::bad_request, "frame must be a JSON object"};
  return parse_object(doc);
}

std::string_view command_name(size_t index) {
  return index < std::size(command_names) ? command_names[index] : "unknown";
}

} // namespace chat::gateway
