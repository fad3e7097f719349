#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::runtime {

/// A listening or connecting address: an IP literal (or `localhost`) and a port.
struct endpoint {
  std::string host;
  uint16_t port = 0;

  [[nodiscard]] std::string to_string() const;
};

/// Parses `HOST:PORT` (`[v6]:PORT` for IPv6). Port 0 asks the OS for a free port.
/// On failure returns nothing and sets `error` to a one-line reason.
[[nodiscard]] std::optional<endpoint> parse_endpoint(std::string_view text, std::string& error);

} // namespace chat::runtime
