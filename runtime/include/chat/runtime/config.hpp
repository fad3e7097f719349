#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "chat/runtime/connection_limits.hpp"
#include "chat/runtime/endpoint.hpp"
#include "chat/runtime/rate_limit.hpp"

namespace chat::runtime {

enum class durability { sync, async };

/// Everything a node is configured with. Each field comes from a CLI flag, a
/// `CHAT_<FLAG>` env var or the `--config` file, in that order of precedence.
struct node_config {
  /// This node's id in vector clocks and the cluster. Default: "n1".
  std::string node_id = "n1";
  /// Where the HTTP/WebSocket gateway listens. Default: 127.0.0.1:8080.
  endpoint http{"127.0.0.1", 8080};
  /// RocksDB directory, created if missing. Default: ./data.
  std::string data_dir = "./data";
  /// Development mode: `?user=NAME` is accepted without a token. Default: off.
  bool dev = false;
  /// HS256 shared secret for client tokens (at least 32 bytes). Default: none.
  std::string jwt_secret;
  /// File with the RS256 public key (PEM) for client tokens. Default: none.
  std::string jwt_public_key;
  /// trace, debug, info, warn, error or off. Default: info.
  std::string log_level = "info";
  std::string log_format = "text"; ///< text | json (one object per line)
  /// WebSocket ping interval; two missed pongs close the peer. Default: 20000.
  uint32_t heartbeat_ms = 20000;
  /// sync = fsync per group commit; async = leave it to the OS. Default: sync.
  enum durability durability = durability::sync;
  /// An empty room's actor is passivated after this long idle. Default: 60000.
  uint32_t room_idle_ms = 60000;
  /// A connection without a heartbeat for this long stops counting as online.
  /// Default: 30000.
  uint32_t presence_ttl_ms = 30000;
  /// Presence changes of one user within this window are published as one.
  /// Default: 250.
  uint32_t presence_coalesce_ms = 250;
  /// Commands per second per connection and per user (across its connections on
  /// this node); over it a command gets `rate_limited`. Default: 50:100.
  rate_limit command_rate{50, 100};
  /// New connections per second per client IP address. Default: 100:200.
  rate_limit connect_rate{100, 200};
  /// What clients may hold open (--max-connections, --max-sockets, ...); chatd
  /// derives the zeros from the descriptor limit (see `descriptor_budget`).
  connection_limits limits;
  /// Bound of each connection's outbound queue in bytes. Default: 1 MiB.
  uint32_t outbound_queue_bytes = 1 << 20;
  /// An HTTP request (headers and body) must arrive within this. Default: 10000.
  uint32_t request_timeout_ms = 10000;
  /// Browser origins allowed to open WebSockets (exact `scheme://host[:port]`);
  /// empty = any. Requests without an Origin header (non-browsers) always pass.
  std::vector<std::string> allowed_origins;
  /// PEM certificate chain and key: HTTPS and WSS on the --http port. Default: none.
  std::string tls_cert;
  std::string tls_key;
  /// Threads running the gateway's io_context. Default: 1.
  uint32_t io_threads = 1;
  /// Threads of the actor scheduler; 0 = one per core. Default: 0.
  uint32_t actor_threads = 0;
  /// Where this node listens for other cluster members (CAF middleman).
  /// Default: none (a single node).
  std::optional<endpoint> cluster;
  /// Members to join through; any one is enough. Default: none (a new cluster).
  std::vector<endpoint> join;
  /// Heartbeats between members. Default: 500.
  uint32_t cluster_heartbeat_ms = 500;
  /// A member not heard from for this long is down. Default: 3000.
  uint32_t failure_timeout_ms = 3000;
  /// Nodes that keep each room's log (the home and R-1 replicas; an ack needs
  /// all of them), capped by the cluster size. Default: 2.
  uint32_t replication = 2;
  /// Writes are refused (sends answered `unavailable`) while the data
  /// directory's file system has less free space than this. 0: off. Default: 256.
  uint32_t min_free_disk_mb = 256;
  /// The dedupe window: a client id is remembered while its message is among
  /// the room's last N or younger than H hours, whichever is longer. Defaults:
  /// 10000 and 24.
  uint64_t dedupe_window_ids = 10000;
  uint32_t dedupe_window_hours = 24;
  /// Retention: a room keeps its last N messages (0: all) and those younger
  /// than D days (0: all). Defaults: 0 and 0 (keep everything).
  uint64_t retention_messages = 0;
  uint32_t retention_days = 0;
  /// How often the store applies them (ms). Default: 60000.
  uint32_t trim_interval_ms = 60000;
  /// A file with the cluster secret (docs/security.md); empty: none.
  std::string cluster_secret_file;
  /// TLS between members: this node's certificate chain, its key, and the CA
  /// every member's certificate must be signed by (PEM files; all or none).
  std::string cluster_tls_cert;
  std::string cluster_tls_key;
  std::string cluster_tls_ca;
  /// Tests only: links to peers go through a fault injector that
  /// `POST /debug/faults` controls (docs/testing.md). Default: off.
  bool fault_injection = false;
  /// The injector's seed; 0 = a random one (logged). Default: 0.
  uint64_t fault_seed = 0;
};

/// The outcome of parsing when the process should stop instead of running:
/// `--help` (code 0, text on stdout) or an error (code 2, one line on stderr).
struct parse_exit {
  int code;
  std::string text;
};

/// Parses argv (flags), then `CHAT_*` env vars, then `--config FILE`.
[[nodiscard]] std::variant<node_config, parse_exit> parse_node_config(int argc, char** argv);

/// A node id: 1-64 characters of [A-Za-z0-9._-] (`--node-id`).
[[nodiscard]] bool valid_node_id(const std::string& id);

} // namespace chat::runtime
