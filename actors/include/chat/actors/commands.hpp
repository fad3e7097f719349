#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "chat/actors/wire.hpp"

namespace chat::msg {

// Client commands, already parsed and validated by the gateway, as the session
// hands them to its connection actor. `ref` is the command's `ref` as raw JSON
// text (empty when absent), echoed verbatim in the reply.

struct cmd_join {
  std::string ref;
  std::string room;
  bool has_since = false;
  uint64_t since = 0;
};

struct cmd_leave {
  std::string ref;
  std::string room;
};

struct cmd_send {
  std::string ref;
  std::string room;
  std::string id;
  std::string body; ///< compact JSON text, at most 64 KiB
};

/// Which part of a room's history a read wants: the newest `limit` records
/// below `before` (0: from the end), or, with `after`, the oldest `limit`
/// above it.
struct history_window {
  uint64_t before = 0;
  std::optional<uint64_t> after;
  uint32_t limit = 50;
};

struct cmd_history {
  std::string ref;
  std::string room;
  history_window window;
};

struct cmd_typing {
  std::string ref;
  std::string room;
};

struct cmd_read {
  std::string ref;
  std::string room;
  uint64_t seq = 0;
};

/// Watch these users' presence (replaces the previous watch list).
struct cmd_presence {
  std::string ref;
  std::vector<std::string> users;
};

struct cmd_signal {
  std::string ref;
  std::string room;
  std::string to;
  std::string data; ///< compact JSON text, at most 64 KiB
};

/// The session is gone: leave every room and stop.
using closed_atom = caf::atom_constant<caf::atom("closed")>;

CHAT_WIRE_TYPE(cmd_join, x.ref, x.room, x.has_since, x.since)

CHAT_WIRE_TYPE(cmd_leave, x.ref, x.room)

CHAT_WIRE_TYPE(cmd_send, x.ref, x.room, x.id, x.body)

// (CAF 0.17 has no inspect for std::optional: a flag and a value.)
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, history_window& x) {
  bool has_after = x.after.has_value();
  uint64_t after = x.after.value_or(0);
  auto load = caf::meta::load_callback([&]() -> caf::error {
    x.after = has_after ? std::optional<uint64_t>{after} : std::nullopt;
    return caf::none;
  });
  return f(caf::meta::type_name("chat::msg::history_window"), x.before, has_after, after,
           x.limit, load);
}

CHAT_WIRE_TYPE(cmd_history, x.ref, x.room, x.window)

CHAT_WIRE_TYPE(cmd_typing, x.ref, x.room)

CHAT_WIRE_TYPE(cmd_read, x.ref, x.room, x.seq)

CHAT_WIRE_TYPE(cmd_presence, x.ref, x.users)

CHAT_WIRE_TYPE(cmd_signal, x.ref, x.room, x.to, x.data)

/// Every client command that a connection actor executes, in one place: the
/// gateway's `command` variant and the connection actor's dispatch are both
/// built from this list, so a command added here without a handler, or to the
/// variant without being here, does not compile (gateway/include/chat/gateway/codec.hpp,
/// actors/src/connection_actor.cpp).
using actor_commands = type_list<cmd_join, cmd_leave, cmd_send, cmd_history, cmd_typing,
                                 cmd_read, cmd_presence, cmd_signal>;

/// True when `T` is one of `List`'s types.
template <class T, class List>
struct listed;
template <class T, class... Ts>
struct listed<T, type_list<Ts...>> : std::bool_constant<(std::is_same_v<T, Ts> || ...)> {};

} // namespace chat::msg
