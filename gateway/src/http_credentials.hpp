#pragma once

#include <string_view>

#include "chat/gateway/http_query.hpp"
#include "http_exchange.hpp"

namespace chat::gateway {

/// What a path needs: /ws may authenticate with its first frame instead (when
/// tokens can be verified); streams and /rpc must carry credentials; REST takes
/// a token, or reads anonymously in --dev mode.
/// What an endpoint needs of its caller: nothing, a connection's identity
/// (optional with a token verifier, else required), the REST API's (an
/// anonymous reader in --dev), or the admin API's (a token with the `admin`
/// scope; anyone in --dev).
enum class credentials { none, optional, required, rest, admin };

/// Sets `ex.caller` from the request's credentials (a token in Authorization:
/// Bearer or ?token=, or a dev-mode ?user=). Answers 401 (or 400 for a
/// malformed dev-mode name) itself and returns false when there are none that
/// `need` accepts. Never echoes a token.
[[nodiscard]] bool identify(http_exchange& ex, const request& req, const target& t,
                            credentials need);

/// Whether a browser page from `origin` may open a connection here.
[[nodiscard]] bool origin_allowed(const shared_state& state, std::string_view origin);

/// The request's Origin is allowed (or absent); answers 403 itself otherwise.
[[nodiscard]] bool check_origin(http_exchange& ex, const request& req);

} // namespace chat::gateway
