#pragma once

#include <chrono>

namespace chat::actors {

/// How long a request that may cross nodes waits before it fails (issue 14:
/// nothing waits forever on a node that vanished). Each request's error path
/// answers `unavailable` or retries; a failover takes about a failure timeout.
inline constexpr auto cross_node_timeout = std::chrono::seconds(5);

/// A join resolves the room (maybe on another node, maybe taking it over) and
/// replays what the member missed: it may take longer than one request.
inline constexpr auto join_timeout = std::chrono::seconds(15);

} // namespace chat::actors
