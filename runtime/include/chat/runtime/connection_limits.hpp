#pragma once

#include <cstddef>
#include <cstdint>

namespace chat::runtime {

/// What clients may hold open on one node (docs/security.md): the node's
/// settings and the gateway's options share this one struct.
struct connection_limits {
  /// Open client connections (WebSockets, SSE and poll streams); beyond, 503.
  /// 0 = `max_sockets`, or 50000 when that is 0 too. Default: 0.
  uint32_t max_connections = 0;
  /// Open sockets of every kind; a socket beyond gets a 503 and is closed at
  /// once, long before the process runs out of descriptors. 0 = connections
  /// + 1/8 (chatd sets it from RLIMIT_NOFILE). Default: 0.
  uint32_t max_sockets = 0;
  /// SSE and poll streams open at once per user on this node, and per client
  /// address; beyond, 429. Defaults: 32 and 256.
  uint32_t max_streams_per_user = 32;
  uint32_t max_streams_per_ip = 256;
  /// WebSockets that connected without credentials and have yet to send
  /// `auth`, on this node (beyond, 503) and per client address (beyond, 429).
  /// They take no connection slot. Defaults: 1024 and 32.
  uint32_t max_unauthenticated = 1024;
  uint32_t max_unauthenticated_per_ip = 32;

  [[nodiscard]] size_t connections() const {
    if (max_connections != 0)
      return max_connections;
    return max_sockets != 0 ? max_sockets : 50000;
  }

  [[nodiscard]] size_t sockets() const {
    return max_sockets != 0 ? max_sockets : connections() + connections() / 8;
  }
};

} // namespace chat::runtime
