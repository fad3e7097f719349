#include "chat/gateway/http_query.hpp"

#include <charconv>
#include <cstdint>

namespace chat::gateway {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

std::optional<std::string> decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size())
        return std::nullopt;
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0)
        return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

} // namespace

const std::string* target::param(std::string_view key) const {
  for (auto& [k, v] : params)
    if (k == key)
      return &v;
  return nullptr;
}

std::optional<target> parse_target(std::string_view raw) {
  auto q = raw.find('?');
  auto path = decode(raw.substr(0, q), false);
  if (!path || path->empty() || path->front() != '/')
    return std::nullopt;
  target t{std::move(*path), {}};
  if (q == std::string_view::npos)
    return t;
  auto query = raw.substr(q + 1);
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty())
      continue;
    if (t.params.size() == 32)
      return std::nullopt;
    auto eq = pair.find('=');
    auto key = decode(pair.substr(0, eq), true);
    auto value =
      decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value)
      return std::nullopt;
    t.params.emplace_back(std::move(*key), std::move(*value));
  }
  return t;
}

std::optional<uint64_t> parse_uint(std::string_view s) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return value;
}

} // namespace chat::gateway
