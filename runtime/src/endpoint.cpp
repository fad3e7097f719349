#include "chat/runtime/endpoint.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace chat::runtime {

std::string endpoint::to_string() const {
  if (host.find(':') != std::string::npos)
    return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::optional<endpoint> parse_endpoint(std::string_view text, std::string& error) {
  auto fail = [&](std::string why) -> std::optional<endpoint> {
    error = "bad address '" + std::string{text} + "': " + why;
    return std::nullopt;
  };
  std::string_view host;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return fail("expected [IPv6]:PORT");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return fail("expected HOST:PORT");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return fail("IPv6 addresses need brackets: [::1]:8080");
  }
  if (host.empty())
    return fail("missing host");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc{} || end != port.data() + port.size() || value > 65535)
    return fail("port must be a number from 0 to 65535");
  std::string host_str{host};
  if (host_str == "localhost")
    host_str = "127.0.0.1";
  unsigned char buf[16];
  if (inet_pton(AF_INET, host_str.c_str(), buf) != 1
      && inet_pton(AF_INET6, host_str.c_str(), buf) != 1)
    return fail("host must be an IP address or 'localhost'");
  return endpoint{std::move(host_str), static_cast<uint16_t>(value)};
}

} // namespace chat::runtime
