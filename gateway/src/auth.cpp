#include "chat/gateway/auth.hpp"

#include <jwt.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "chat/gateway/codec.hpp"

namespace chat::gateway {

namespace {

using json = nlohmann::json;

// Base64url (no padding) -> bytes; nothing on malformed input.
std::optional<std::string> base64url_decode(std::string_view in) {
  auto pads = (4 - in.size() % 4) % 4;
  if (pads == 3)
    return std::nullopt;
  std::string s{in};
  for (auto& c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'))
      return std::nullopt;
  }
  s.append(pads, '=');
  std::string out(s.size() / 4 * 3, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(s.data()),
                           static_cast<int>(s.size()));
  if (n < 0 || static_cast<size_t>(n) < pads)
    return std::nullopt;
  out.resize(static_cast<size_t>(n) - pads);
  return out;
}

struct jwt_deleter {
  void operator()(jwt_t* p) const { jwt_free(p); }
};

// A claim that must be a list of strings; nothing when it is anything else
// (a wrong type is refused, never read as "no restriction").
std::optional<std::vector<std::string>> string_list(const json& j) {
  if (!j.is_array())
    return std::nullopt;
  std::vector<std::string> out;
  for (auto& x : j) {
    if (!x.is_string())
      return std::nullopt;
    out.push_back(x.get<std::string>());
  }
  return out;
}

} // namespace

bool identity::may_access(std::string_view room) const {
  if (!has_rooms)
    return room.rfind("private:", 0) != 0;
  for (auto& pattern : rooms) {
    std::string_view p{pattern};
    if (!p.empty() && p.back() == '*') {
      p.remove_suffix(1);
      if (room.substr(0, p.size()) == p)
        return true;
    } else if (room == p) {
      return true;
    }
  }
  return false;
}

bool identity::has_scope(std::string_view scope) const {
  for (auto& s : scopes)
    if (s == scope)
      return true;
  return false;
}

std::shared_ptr<const authenticator> authenticator::make(auth_options opts,
                                                         std::string& error) {
  if (!opts.jwt_secret.empty() && !opts.jwt_public_key_pem.empty()) {
    error = "give --jwt-secret or --jwt-public-key, not both";
    return nullptr;
  }
  std::shared_ptr<authenticator> a{new authenticator(std::move(opts))};
  if (!a->opts_.jwt_secret.empty()) {
    if (a->opts_.jwt_secret.size() < 32) {
      error = "--jwt-secret must be at least 32 bytes (HS256 needs a strong key)";
      return nullptr;
    }
    a->key_ = a->opts_.jwt_secret;
    a->alg_ = "HS256";
  } else if (!a->opts_.jwt_public_key_pem.empty()) {
    if (a->opts_.jwt_public_key_pem.find("-----BEGIN PUBLIC KEY-----") == std::string::npos) {
      error = "--jwt-public-key: not a PEM public key (-----BEGIN PUBLIC KEY-----)";
      return nullptr;
    }
    a->key_ = a->opts_.jwt_public_key_pem;
    a->alg_ = "RS256";
  }
  return a;
}

std::variant<identity, std::string> authenticator::verify(std::string_view token,
                                                          int64_t now_s) const {
  if (key_.empty())
    return std::string{"tokens are not accepted: no JWT key is configured"};
  if (token.empty() || token.size() > 8192)
    return std::string{"malformed token"};
  auto dot = token.find('.');
  if (dot == std::string_view::npos || token.find('.', dot + 1) == std::string_view::npos)
    return std::string{"malformed token"};
  // The header's algorithm is checked first, so that a token can never choose
  // how it is verified (alg none, or HS256 keyed with our RSA public key).
  auto header_bytes = base64url_decode(token.substr(0, dot));
  if (!header_bytes)
    return std::string{"malformed token"};
  auto header = json::parse(*header_bytes, nullptr, false);
  if (header.is_discarded() || !header.is_object() || !header.contains("alg")
      || !header["alg"].is_string())
    return std::string{"malformed token"};
  if (header["alg"] != alg_)
    return "token algorithm must be " + alg_;
  jwt_t* raw = nullptr;
  std::string tok{token};
  if (jwt_decode(&raw, tok.c_str(), reinterpret_cast<const unsigned char*>(key_.data()),
                 static_cast<int>(key_.size()))
        != 0
      || raw == nullptr)
    return std::string{"invalid token signature"};
  std::unique_ptr<jwt_t, jwt_deleter> jwt{raw};
  if (std::string_view{jwt_alg_str(jwt_get_alg(jwt.get()))} != alg_)
    return "token algorithm must be " + alg_;
  char* grants = jwt_get_grants_json(jwt.get(), nullptr);
  if (grants == nullptr)
    return std::string{"malformed token claims"};
  auto claims = json::parse(grants, nullptr, false);
  free(grants);
  if (claims.is_discarded() || !claims.is_object())
    return std::string{"malformed token claims"};
  identity id;
  if (!claims.contains("sub") || !claims["sub"].is_string()
      || !valid_user_name(claims["sub"].get_ref<const std::string&>()))
    return std::string{"token 'sub' must be a user name (1-64 bytes of [A-Za-z0-9._-])"};
  id.user = claims["sub"].get<std::string>();
  if (claims.contains("exp")) {
    if (!claims["exp"].is_number())
      return std::string{"token 'exp' must be a number"};
    id.exp = claims["exp"].get<int64_t>();
    if (id.exp <= now_s)
      return std::string{"token expired"};
  } else if (!opts_.dev) {
    return std::string{"token has no 'exp'"};
  }
  // RFC 7519 4.1.5: not valid before `nbf` (no leeway: our clocks are the issuer's).
  if (claims.contains("nbf")) {
    if (!claims["nbf"].is_number())
      return std::string{"token 'nbf' must be a number"};
    if (claims["nbf"].get<double>() > static_cast<double>(now_s))
      return std::string{"token not valid yet ('nbf' is in the future)"};
  }
  if (claims.contains("rooms")) {
    auto rooms = string_list(claims["rooms"]);
    if (!rooms)
      return std::string{"token 'rooms' must be a list of strings"};
    id.has_rooms = true;
    id.rooms = std::move(*rooms);
  }
  if (claims.contains("scope")) {
    if (claims["scope"].is_string()) {
      id.scopes = {claims["scope"].get<std::string>()};
    } else if (auto scopes = string_list(claims["scope"])) {
      id.scopes = std::move(*scopes);
    } else {
      return std::string{"token 'scope' must be a string or a list of strings"};
    }
  }
  return id;
}

std::variant<identity, std::string> authenticator::dev_user(std::string_view user) const {
  if (!opts_.dev)
    return std::string{"?user= is only accepted in --dev mode"};
  if (!valid_user_name(user))
    return std::string{"user must be 1-64 bytes of [A-Za-z0-9._-]"};
  identity id;
  id.user = std::string{user};
  return id;
}

std::optional<std::string_view> bearer_token(std::string_view header) {
  constexpr std::string_view prefix = "Bearer ";
  if (header.size() <= prefix.size())
    return std::nullopt;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i]))
        != std::tolower(static_cast<unsigned char>(prefix[i])))
      return std::nullopt;
  auto token = header.substr(prefix.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  return token;
}

} // namespace chat::gateway
