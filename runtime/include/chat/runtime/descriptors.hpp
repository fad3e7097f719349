#pragma once

#include <cstddef>

namespace chat::runtime {

/// The process's file descriptors, as far as client sockets are concerned.
struct descriptor_budget {
  size_t limit = 0;   ///< RLIMIT_NOFILE after raising the soft limit to the hard one
  size_t reserve = 0; ///< kept for RocksDB files, cluster links, logs: min(1024, limit / 4)
  size_t sockets = 0; ///< limit - reserve: what client sockets may use
};

/// Raises the soft descriptor limit to the hard one (as servers do: the soft
/// default is often 1024) and says how many client sockets fit under it, so
/// that the node refuses connections with a 503 before accept() fails.
[[nodiscard]] descriptor_budget raise_descriptor_limit();

} // namespace chat::runtime
