#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::gateway {

/// A request target split into its path and its decoded query parameters.
struct target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> params;

  /// The first value of `key`, if present.
  [[nodiscard]] const std::string* param(std::string_view key) const;
};

/// Splits and percent-decodes a request target. Returns nothing for malformed
/// escapes, an empty path, or more than 32 parameters.
[[nodiscard]] std::optional<target> parse_target(std::string_view raw);

/// Parses a decimal unsigned 64-bit number (no sign, no spaces, no overflow).
[[nodiscard]] std::optional<uint64_t> parse_uint(std::string_view s);

} // namespace chat::gateway
