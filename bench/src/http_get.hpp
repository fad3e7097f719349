#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace bench {

/// GET `target` from host:port over HTTP/1.1 (2 s timeout): the body of a 200
/// answer, else nothing. For reading a node's /metrics around a run.
std::optional<std::string> http_get(const std::string& host, uint16_t port,
                                    const std::string& target);

} // namespace bench
