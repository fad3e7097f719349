#include "http_credentials.hpp"

#include <algorithm>

#include <boost/beast/http.hpp>

#include "chat/runtime/clock.hpp"

namespace chat::gateway {

namespace {

using actors::wire_error;

bool has_token(const request& req, const target& t) {
  return req.count(http::field::authorization) > 0 || t.param("token") != nullptr;
}

// Verifies the request's token (Authorization: Bearer, or ?token=). On failure
// answers 401 and returns nothing.
std::optional<identity> authenticate(http_exchange& ex, const request& req, const target& t) {
  std::string_view token;
  if (auto h = req.find(http::field::authorization); h != req.end()) {
    auto bearer = bearer_token({h->value().data(), h->value().size()});
    if (!bearer) {
      ex.reply(error_reply(wire_error::unauthorized, "Authorization must be 'Bearer <token>'"));
      return std::nullopt;
    }
    token = *bearer;
  } else {
    token = *t.param("token");
  }
  auto verified = ex.state->opts.auth->verify(token, runtime::wall_s());
  if (auto* why = std::get_if<std::string>(&verified)) {
    ex.reply(error_reply(wire_error::unauthorized, *why));
    return std::nullopt;
  }
  return std::get<identity>(std::move(verified));
}

// The credentials the request carries, if any: leaves `ex.caller` empty when
// there are none; answers itself and returns false when they are refused.
bool client_identity(http_exchange& ex, const request& req, const target& t) {
  if (has_token(req, t)) {
    ex.caller = authenticate(ex, req, t);
    return ex.caller.has_value();
  }
  auto* user = t.param("user");
  if (user == nullptr)
    return true;
  auto& auth = *ex.state->opts.auth;
  if (!auth.dev()) {
    ex.reply(error_reply(wire_error::unauthorized,
                         "?user= is only accepted in --dev mode; send a token"));
    return false;
  }
  auto dev = auth.dev_user(*user);
  if (auto* why = std::get_if<std::string>(&dev)) {
    ex.reply(error_reply(wire_error::bad_request, *why));
    return false;
  }
  ex.caller = std::get<identity>(std::move(dev));
  return true;
}

} // namespace

bool identify(http_exchange& ex, const request& req, const target& t, credentials need) {
  ex.caller.reset();
  if (need == credentials::none)
    return true;
  if (!client_identity(ex, req, t))
    return false;
  auto& auth = *ex.state->opts.auth;
  if (ex.caller) {
    if (need != credentials::admin || auth.dev() || ex.caller->has_scope("admin"))
      return true;
    ex.reply(
      error_reply(wire_error::forbidden, "the admin API needs a token with the admin scope"));
    return false;
  }
  switch (need) {
    case credentials::optional:
      if (auth.verifies_tokens())
        return true;
      ex.reply(error_reply(wire_error::unauthorized,
                           "no credentials: connect with ?user=NAME (dev mode)"));
      return false;
    case credentials::rest:
    case credentials::admin:
      if (auth.dev()) {
        ex.caller = identity{}; // an anonymous reader of public rooms
        return true;
      }
      ex.reply(error_reply(wire_error::unauthorized,
                           "no credentials: send Authorization: Bearer <token>"));
      return false;
    default:
      ex.reply(error_reply(wire_error::unauthorized,
                           auth.dev() ? "no credentials: send a token or ?user=NAME"
                                      : "no credentials: send a token"));
      return false;
  }
}

bool origin_allowed(const shared_state& state, std::string_view origin) {
  auto& allowed = state.opts.allowed_origins;
  return allowed.empty() || std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
}

bool check_origin(http_exchange& ex, const request& req) {
  auto origin = req.find(http::field::origin);
  if (origin == req.end()
      || origin_allowed(*ex.state, {origin->value().data(), origin->value().size()}))
    return true;
  ex.reply(error_reply(wire_error::forbidden, "origin not allowed"));
  return false;
}

} // namespace chat::gateway
