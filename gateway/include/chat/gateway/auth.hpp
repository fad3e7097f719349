#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace chat::gateway {

/// Who a connection or request is, and what its token allows.
struct identity {
  std::string user;
  /// The token's `rooms` claim: names, or prefixes ending in `*`. Without the
  /// claim (`has_rooms` false) the user may join public rooms only.
  bool has_rooms = false;
  std::vector<std::string> rooms;
  std::vector<std::string> scopes;
  int64_t exp = 0; ///< seconds since the epoch; 0 = none (dev mode only)

  /// May this identity join (or read) `room`? Rooms outside a `rooms` claim, and
  /// `private:` rooms without a matching claim, are forbidden.
  [[nodiscard]] bool may_access(std::string_view room) const;
  [[nodiscard]] bool has_scope(std::string_view scope) const;
};

struct auth_options {
  /// HS256 shared secret (`--jwt-secret`); empty = none.
  std::string jwt_secret;
  /// RS256 public key in PEM (the contents of `--jwt-public-key FILE`); empty = none.
  std::string jwt_public_key_pem;
  /// Accept `?user=NAME` without a token, and tokens without `exp`.
  bool dev = false;
};

/// Verifies JWTs with libjwt: exactly one configured algorithm (HS256 or RS256),
/// the header's `alg` checked before the signature (no `none`, no algorithm
/// confusion), `sub` required, `exp` required and in the future (unless dev).
class authenticator {
public:
  /// Fails (with a one-line reason) for an unusable configuration.
  [[nodiscard]] static std::shared_ptr<const authenticator> make(auth_options opts,
                                                                 std::string& error);

  /// True when tokens can be verified (a secret or a public key is configured).
  [[nodiscard]] bool verifies_tokens() const { return !key_.empty(); }
  [[nodiscard]] bool dev() const { return opts_.dev; }

  /// The identity of a valid token, or why it is not valid (never echoes the token).
  [[nodiscard]] std::variant<identity, std::string> verify(std::string_view token,
                                                           int64_t now_s) const;

  /// The identity of a dev-mode `?user=NAME`, or why not.
  [[nodiscard]] std::variant<identity, std::string> dev_user(std::string_view user) const;

private:
  explicit authenticator(auth_options opts) : opts_(std::move(opts)) {}
  auth_options opts_;
  std::string key_;
  std::string alg_; ///< "HS256" or "RS256"
};

/// The token of an `Authorization: Bearer <jwt>` header value, if it is one.
[[nodiscard]] std::optional<std::string_view> bearer_token(std::string_view header);

} // namespace chat::gateway
