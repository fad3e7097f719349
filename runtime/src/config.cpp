#include "chat/runtime/config.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <sstream>

namespace chat::runtime {

bool valid_node_id(const std::string& id) {
  return !id.empty() && id.size() <= 64
         && std::all_of(id.begin(), id.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '-' || c == '_' || c == '.';
            });
}

std::variant<node_config, parse_exit> parse_node_config(int argc, char** argv) {
  node_config cfg;
  CLI::App app{"chatd: one node of the chat runtime", "chatd"};
  app.option_defaults()->always_capture_default();
  app.set_config("--config", "", "read flags from a TOML/INI file (key = value)");
  app.allow_config_extras(CLI::config_extras_mode::error);

  std::string http = cfg.http.to_string();
  std::string durability = "sync";
  app.add_option("--node-id", cfg.node_id, "this node's id")->envname("CHAT_NODE_ID");
  app.add_option("--http", http, "HTTP/WebSocket listen address HOST:PORT")
    ->envname("CHAT_HTTP");
  app.add_option("--data", cfg.data_dir, "data directory (RocksDB)")->envname("CHAT_DATA");
  app.add_flag("--dev", cfg.dev, "development mode: accept ?user=NAME without a token")
    ->envname("CHAT_DEV");
  app.add_option("--jwt-secret", cfg.jwt_secret, "HS256 secret for client tokens")
    ->envname("CHAT_JWT_SECRET");
  app
    .add_option("--jwt-public-key", cfg.jwt_public_key,
                "PEM file with the RS256 public key for client tokens")
    ->envname("CHAT_JWT_PUBLIC_KEY");
  app.add_option("--log-level", cfg.log_level, "trace|debug|info|warn|error|off")
    ->envname("CHAT_LOG_LEVEL")
    ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app
    .add_option("--log-format", cfg.log_format,
                "text (for people) | json (one object per line: ts, level, node, cid, msg)")
    ->envname("CHAT_LOG_FORMAT")
    ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--heartbeat-ms", cfg.heartbeat_ms, "WebSocket ping interval in ms")
    ->envname("CHAT_HEARTBEAT_MS")
    ->check(CLI::Range(50u, 3600000u));
  app.add_option("--durability", durability, "sync (fsync each group commit) | async")
    ->envname("CHAT_DURABILITY")
    ->check(CLI::IsMember({"sync", "async"}));
  app
    .add_option("--room-idle-ms", cfg.room_idle_ms,
                "passivate an empty room's actor after this idle time")
    ->envname("CHAT_ROOM_IDLE_MS")
    ->check(CLI::Range(10u, 86400000u));
  app
    .add_option("--presence-ttl-ms", cfg.presence_ttl_ms,
                "a connection silent for this long no longer counts as online")
    ->envname("CHAT_PRESENCE_TTL_MS")
    ->check(CLI::Range(100u, 86400000u));
  app
    .add_option("--presence-coalesce-ms", cfg.presence_coalesce_ms,
                "presence changes within this window are published as one")
    ->envname("CHAT_PRESENCE_COALESCE_MS")
    ->check(CLI::Range(0u, 60000u));
  std::string command_rate = cfg.command_rate.to_string();
  std::string connect_rate = cfg.connect_rate.to_string();
  app
    .add_option("--rate-limit", command_rate,
                "commands per second per connection and per user: PER_SEC:BURST or off")
    ->envname("CHAT_RATE_LIMIT");
  app
    .add_option("--connect-rate-limit", connect_rate,
                "new connections per second per client IP: PER_SEC:BURST or off")
    ->envname("CHAT_CONNECT_RATE_LIMIT");
  app
    .add_option("--max-connections", cfg.limits.max_connections,
                "open client connections at most (0 = what RLIMIT_NOFILE allows)")
    ->envname("CHAT_MAX_CONNECTIONS")
    ->check(CLI::Range(0u, 10000000u));
  app
    .add_option("--max-sockets", cfg.limits.max_sockets,
                "open sockets of every kind at most; beyond, 503 and close "
                "(0 = what RLIMIT_NOFILE allows)")
    ->envname("CHAT_MAX_SOCKETS")
    ->check(CLI::Range(0u, 10000000u));
  app
    .add_option("--max-streams-per-user", cfg.limits.max_streams_per_user,
                "open SSE and poll streams per user on this node")
    ->envname("CHAT_MAX_STREAMS_PER_USER")
    ->check(CLI::Range(1u, 1000000u));
  app
    .add_option("--max-streams-per-ip", cfg.limits.max_streams_per_ip,
                "open SSE and poll streams per client address")
    ->envname("CHAT_MAX_STREAMS_PER_IP")
    ->check(CLI::Range(1u, 10000000u));
  app
    .add_option("--max-unauthenticated", cfg.limits.max_unauthenticated,
                "WebSockets waiting for their auth frame, on this node")
    ->envname("CHAT_MAX_UNAUTHENTICATED")
    ->check(CLI::Range(1u, 10000000u));
  app
    .add_option("--max-unauthenticated-per-ip", cfg.limits.max_unauthenticated_per_ip,
                "WebSockets waiting for their auth frame, per client address")
    ->envname("CHAT_MAX_UNAUTHENTICATED_PER_IP")
    ->check(CLI::Range(1u, 10000000u));
  app
    .add_option("--outbound-queue-bytes", cfg.outbound_queue_bytes,
                "bound of each connection's outbound queue")
    ->envname("CHAT_OUTBOUND_QUEUE_BYTES")
    ->check(CLI::Range(4096u, 1u << 30));
  app
    .add_option("--request-timeout-ms", cfg.request_timeout_ms,
                "an HTTP request must arrive within this")
    ->envname("CHAT_REQUEST_TIMEOUT_MS")
    ->check(CLI::Range(100u, 600000u));
  app
    .add_option("--allowed-origins", cfg.allowed_origins,
                "browser origins allowed to connect (comma-separated); default any")
    ->envname("CHAT_ALLOWED_ORIGINS")
    ->delimiter(',');
  app.add_option("--tls-cert", cfg.tls_cert, "PEM certificate chain: serve HTTPS and WSS")
    ->envname("CHAT_TLS_CERT");
  app.add_option("--tls-key", cfg.tls_key, "PEM private key for --tls-cert")
    ->envname("CHAT_TLS_KEY");
  app.add_option("--io-threads", cfg.io_threads, "gateway I/O threads")
    ->envname("CHAT_IO_THREADS")
    ->check(CLI::Range(1u, 64u));
  app
    .add_option("--actor-threads", cfg.actor_threads,
                "actor scheduler threads (0 = one per core)")
    ->envname("CHAT_ACTOR_THREADS")
    ->check(CLI::Range(0u, 64u));

  std::string cluster;
  std::vector<std::string> join;
  app
    .add_option("--cluster", cluster,
                "cluster listen address HOST:PORT (CAF middleman); default: no cluster")
    ->envname("CHAT_CLUSTER");
  app
    .add_option("--join", join, "cluster members to join through, HOST:PORT (comma-separated)")
    ->envname("CHAT_JOIN")
    ->delimiter(',');
  app
    .add_option("--cluster-heartbeat-ms", cfg.cluster_heartbeat_ms,
                "heartbeat interval between cluster members in ms")
    ->envname("CHAT_CLUSTER_HEARTBEAT_MS")
    ->check(CLI::Range(10u, 60000u));
  app
    .add_option("--replication", cfg.replication,
                "nodes that keep each room's log; a send is acked once all hold it")
    ->envname("CHAT_REPLICATION")
    ->check(CLI::Range(1u, 5u));
  app
    .add_option("--failure-timeout-ms", cfg.failure_timeout_ms,
                "a member silent for this long is down (ms)")
    ->envname("CHAT_FAILURE_TIMEOUT_MS")
    ->check(CLI::Range(50u, 600000u));
  app
    .add_option("--min-free-disk-mb", cfg.min_free_disk_mb,
                "refuse writes (sends answered 'unavailable') while the data directory has "
                "less free space than this many MiB; 0: never")
    ->envname("CHAT_MIN_FREE_DISK_MB")
    ->check(CLI::Range(0u, 1u << 20));
  app
    .add_option("--dedupe-window-ids", cfg.dedupe_window_ids,
                "a resend is 'dup' while its message is among the room's last N (or inside "
                "--dedupe-window-hours, whichever is longer)")
    ->envname("CHAT_DEDUPE_WINDOW_IDS")
    ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 40));
  app
    .add_option("--dedupe-window-hours", cfg.dedupe_window_hours,
                "a resend is 'dup' while its message is younger than this (or among the "
                "last --dedupe-window-ids, whichever is longer)")
    ->envname("CHAT_DEDUPE_WINDOW_HOURS")
    ->check(CLI::Range(0u, 24u * 3660u));
  app
    .add_option("--retention-messages", cfg.retention_messages,
                "keep each room's last N messages, remove older ones; 0: keep all")
    ->envname("CHAT_RETENTION_MESSAGES")
    ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 40));
  app
    .add_option("--retention-days", cfg.retention_days,
                "remove messages older than D days; 0: keep all")
    ->envname("CHAT_RETENTION_DAYS")
    ->check(CLI::Range(0u, 36600u));
  app
    .add_option("--trim-interval-ms", cfg.trim_interval_ms,
                "how often retention and the dedupe window are applied (ms)")
    ->envname("CHAT_TRIM_INTERVAL_MS")
    ->check(CLI::Range(10u, 86400000u));
  app
    .add_option("--cluster-secret", cfg.cluster_secret_file,
                "file with the secret every cluster member must know (one per line: the "
                "current one, then optionally the one being retired)")
    ->envname("CHAT_CLUSTER_SECRET_FILE");
  app
    .add_option("--cluster-tls-cert", cfg.cluster_tls_cert,
                "TLS between members: this node's certificate chain (PEM); with "
                "--cluster-tls-key and --cluster-tls-ca")
    ->envname("CHAT_CLUSTER_TLS_CERT");
  app
    .add_option("--cluster-tls-key", cfg.cluster_tls_key,
                "TLS between members: this node's key (PEM)")
    ->envname("CHAT_CLUSTER_TLS_KEY");
  app
    .add_option(
      "--cluster-tls-ca", cfg.cluster_tls_ca,
      "TLS between members: the CA (PEM) every member's certificate must be signed by")
    ->envname("CHAT_CLUSTER_TLS_CA");
  // No environment variable: a node is never put at the mercy of faults by
  // something inherited from its surroundings.
  app.add_flag("--fault-injection", cfg.fault_injection,
               "TESTS ONLY: route links to peers through a fault injector controlled by "
               "POST /debug/faults");
  app.add_option("--fault-seed", cfg.fault_seed,
                 "seed of the fault injector (0: random); needs --fault-injection");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return parse_exit{0, app.help()};
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    return parse_exit{2, "chatd: " + what};
  }
  std::string error;
  auto ep = parse_endpoint(http, error);
  if (!ep)
    return parse_exit{2, "chatd: --http: " + error};
  cfg.http = *ep;
  if (!valid_node_id(cfg.node_id))
    return parse_exit{2, "chatd: --node-id: must be 1-64 characters of [A-Za-z0-9._-]"};
  if (cfg.data_dir.empty())
    return parse_exit{2, "chatd: --data: must not be empty"};
  cfg.durability = durability == "async" ? durability::async : durability::sync;
  auto rate = parse_rate_limit(command_rate, error);
  if (!rate)
    return parse_exit{2, "chatd: --rate-limit: " + error};
  cfg.command_rate = *rate;
  auto conn_rate = parse_rate_limit(connect_rate, error);
  if (!conn_rate)
    return parse_exit{2, "chatd: --connect-rate-limit: " + error};
  cfg.connect_rate = *conn_rate;
  if (!cluster.empty()) {
    auto c = parse_endpoint(cluster, error);
    if (!c)
      return parse_exit{2, "chatd: --cluster: " + error};
    cfg.cluster = *c;
  }
  for (auto& j : join) {
    auto e = parse_endpoint(j, error);
    if (!e)
      return parse_exit{2, "chatd: --join: '" + j + "': " + error};
    cfg.join.push_back(*e);
  }
  if (!cfg.join.empty() && !cfg.cluster)
    return parse_exit{2, "chatd: --join needs --cluster (this node's own cluster address)"};
  if (!cfg.cluster_secret_file.empty() && !cfg.cluster)
    return parse_exit{2, "chatd: --cluster-secret needs --cluster"};
  auto tls_given = int{!cfg.cluster_tls_cert.empty()} + int{!cfg.cluster_tls_key.empty()}
                   + int{!cfg.cluster_tls_ca.empty()};
  if (tls_given != 0 && tls_given != 3)
    return parse_exit{2, "chatd: --cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca go "
                         "together (all three or none)"};
  if (tls_given == 3 && !cfg.cluster)
    return parse_exit{2, "chatd: --cluster-tls-cert needs --cluster"};
  if (tls_given == 3 && cfg.fault_injection)
    return parse_exit{2, "chatd: --fault-injection cannot see inside TLS links; use it without "
                         "--cluster-tls-*"};
  if (cfg.fault_injection && !cfg.cluster)
    return parse_exit{2,
                      "chatd: --fault-injection needs --cluster (it acts on links to peers)"};
  if (cfg.fault_seed != 0 && !cfg.fault_injection)
    return parse_exit{2, "chatd: --fault-seed needs --fault-injection"};
  if (cfg.failure_timeout_ms <= 2 * cfg.cluster_heartbeat_ms)
    return parse_exit{2, "chatd: --failure-timeout-ms must be more than twice "
                         "--cluster-heartbeat-ms"};
  return cfg;
}

} // namespace chat::runtime
