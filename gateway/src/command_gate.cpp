#include "command_gate.hpp"

#include <caf/send.hpp>

#include "chat/actors/events.hpp"
#include "chat/actors/messages.hpp"

namespace chat::gateway {

namespace {

template <class... Fs>
struct overload : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
overload(Fs...) -> overload<Fs...>;

actors::frame rate_limited_event(const std::string& ref, int64_t retry_after) {
  return actors::error_event(ref, actors::wire_error::rate_limited,
                             "too many commands; retry later", retry_after);
}

std::optional<actors::frame> screen(command& cmd, const identity& who,
                                    runtime::token_bucket& connection, rate_limiter& users) {
  if (auto* ping = std::get_if<cmd_ping>(&cmd))
    return actors::pong_event(ping->ref);
  int64_t retry_after = 0;
  if (!connection.take(runtime::token_bucket::clock::now(), retry_after)
      || !users.take(who.user, retry_after))
    return rate_limited_event(std::visit(
                                [](auto& x) {
                                  return x.ref;
                                },
                                cmd),
                              retry_after);
  auto forbidden = [](const std::string& ref, const std::string& room) {
    return actors::error_event(ref, actors::wire_error::forbidden,
                               "not allowed in room '" + room + "'");
  };
  return std::visit(overload{
                      [&](cmd_auth& x) -> std::optional<actors::frame> {
                        return actors::error_event(x.ref, actors::wire_error::bad_request,
                                                   "already authenticated");
                      },
                      [&](msg::cmd_join& x) -> std::optional<actors::frame> {
                        if (!who.may_access(x.room))
                          return forbidden(x.ref, x.room);
                        return std::nullopt;
                      },
                      [&](msg::cmd_history& x) -> std::optional<actors::frame> {
                        if (!who.may_access(x.room))
                          return forbidden(x.ref, x.room);
                        return std::nullopt;
                      },
                      [](auto&) -> std::optional<actors::frame> {
                        return std::nullopt;
                      },
                    },
                    cmd);
}

} // namespace

std::optional<actors::frame> screen_command(command& cmd, const identity& who,
                                            runtime::token_bucket& connection,
                                            rate_limiter& users, command_counts& counts) {
  auto answer = screen(cmd, who, connection, users);
  auto code = answer ? answer->error() : actors::wire_error::none;
  counts.count(cmd, !answer                                    ? gate_result::forwarded
                    : code == actors::wire_error::rate_limited ? gate_result::rate_limited
                    : code == actors::wire_error::forbidden    ? gate_result::forbidden
                                                               : gate_result::answered);
  return answer;
}

void forward_command(const caf::actor& conn, command&& cmd,
                     std::shared_ptr<actors::outbox> reply) {
  std::visit(overload{
               [](cmd_ping&) {}, // answered by screen_command
               [](cmd_auth&) {},
               [&](auto& x) {
                 // Anything else the codec makes must be one the actor executes.
                 static_assert(
                   msg::listed<std::decay_t<decltype(x)>, msg::actor_commands>::value,
                   "a command of the codec that the connection actor does not "
                   "execute: add it to msg::actor_commands, or answer it here");
                 if (reply)
                   caf::anon_send(conn, msg::reply_to{std::move(reply)}, std::move(x));
                 else
                   caf::anon_send(conn, std::move(x));
               },
             },
             cmd);
}

} // namespace chat::gateway
