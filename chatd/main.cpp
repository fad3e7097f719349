// chatd: one node of the chat runtime. Wires the layers together in the order
// the shutdown needs: the actor system outlives the gateway's io_context.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "chat/actors/node.hpp"
#include "chat/cluster/membership.hpp"
#include "chat/gateway/server.hpp"
#include "chat/runtime/config.hpp"
#include "chat/runtime/descriptors.hpp"
#include "chat/runtime/log.hpp"
#include "chat/storage/store.hpp"
#include "cluster_command.hpp"
#include "exit_deadline.hpp"
#include "fault_control.hpp"

namespace {

/// How long the last actors have to end once the store is flushed.
constexpr auto exit_grace = std::chrono::seconds(10);

int fail(const std::string& line) {
  // One insertion, one write(2): in `chatd cluster` the nodes share a pipe.
  std::cerr << ("chatd: " + line + '\n');
  return 2;
}

// Blocks SIGINT/SIGTERM in every thread (threads inherit the mask), so that
// only sigwait in main sees them.
sigset_t block_stop_signals() {
  // A process started in the background by a non-interactive shell (or by a
  // test runner) inherits SIGINT as ignored, and an ignored signal never
  // reaches sigwait: restore the defaults first.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// Reads the whole file, or fails with a one-line reason.
bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    error = "cannot read '" + path + "'";
    return false;
  }
  out.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
  return true;
}

int run(const chat::runtime::node_config& cfg) {
  std::string error;
  chat::gateway::auth_options ao;
  ao.dev = cfg.dev;
  ao.jwt_secret = cfg.jwt_secret;
  if (!cfg.jwt_public_key.empty()
      && !read_file(cfg.jwt_public_key, ao.jwt_public_key_pem, error))
    return fail("--jwt-public-key: " + error);
  auto auth = chat::gateway::authenticator::make(ao, error);
  if (!auth)
    return fail(error);
  if (!cfg.dev && !auth->verifies_tokens())
    return fail("no authentication configured: give --jwt-secret or --jwt-public-key "
                "(or --dev, which accepts ?user=NAME, for development only)");
  if (!chat::runtime::init_logging(cfg.log_level, cfg.log_format, cfg.node_id))
    return fail("--log-level/--log-format: unknown level '" + cfg.log_level + "' or format '"
                + cfg.log_format + "'");
  auto signals = block_stop_signals();

  chat::storage::open_options so;
  so.path = cfg.data_dir;
  so.sync = cfg.durability == chat::runtime::durability::sync;
  so.min_free_bytes = uint64_t{cfg.min_free_disk_mb} << 20;
  constexpr int64_t hour_ms = 3600 * 1000;
  so.retention.dedupe_ids = cfg.dedupe_window_ids;
  so.retention.dedupe_ms = int64_t{cfg.dedupe_window_hours} * hour_ms;
  so.retention.keep_messages = cfg.retention_messages;
  so.retention.keep_ms = int64_t{cfg.retention_days} * 24 * hour_ms;
  if ((so.retention.keep_messages > 0 && so.retention.keep_messages < so.retention.dedupe_ids)
      || (so.retention.keep_ms > 0 && so.retention.keep_ms < so.retention.dedupe_ms))
    spdlog::warn("retention (--retention-messages/--retention-days) is shorter than the dedupe "
                 "window: an id is forgotten with its message, so resends of removed messages "
                 "are new messages");
  auto db = chat::storage::store::open(so, error);
  if (!db)
    return fail(error);

  caf::actor_system_config caf_cfg;
  chat::actors::register_types(caf_cfg);
  chat::cluster::cluster_options co;
  if (cfg.cluster) {
    co.listen = *cfg.cluster;
    co.seeds = cfg.join;
    co.heartbeat = std::chrono::milliseconds(cfg.cluster_heartbeat_ms);
    co.failure_timeout = std::chrono::milliseconds(cfg.failure_timeout_ms);
    co.members_file = cfg.data_dir + "/cluster-members";
    if (!cfg.cluster_secret_file.empty()) {
      auto secrets = chat::cluster::read_cluster_secrets(cfg.cluster_secret_file, error);
      if (!secrets)
        return fail("--cluster-secret: " + error);
      co.secrets = std::move(*secrets);
    }
    if (!cfg.cluster_tls_cert.empty()) {
      // Checked here, so that a wrong file is one clear line, not a failed
      // TLS handshake with every peer later.
      co.tls = {cfg.cluster_tls_cert, cfg.cluster_tls_key, cfg.cluster_tls_ca};
      if (!chat::cluster::check_tls_files(co.tls, error))
        return fail(error);
    }
    chat::cluster::configure(caf_cfg, co);
  }
  // Tests only: every link to a peer goes through the injector.
  std::unique_ptr<chat::cluster::fault_injector> faults;
  if (cfg.fault_injection) {
    auto seed = cfg.fault_seed != 0 ? cfg.fault_seed : std::random_device{}();
    faults = std::make_unique<chat::cluster::fault_injector>(seed);
    co.dial = faults->dialer(cfg.node_id);
    spdlog::warn("FAULT INJECTION (seed {}): POST /debug/faults cuts, slows and drops this "
                 "node's links; for tests only, never in production",
                 seed);
  }
  auto threads = cfg.actor_threads != 0 ? cfg.actor_threads
                                        : std::max(1u, std::thread::hardware_concurrency());
  caf_cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
  caf_cfg.set("scheduler.policy", caf::atom("sharing"));
  caf_cfg.set("logger.console", caf::atom("none"));
  chatd::exit_deadline deadline;
  caf::actor_system sys{caf_cfg};

  chat::actors::node_options no;
  no.node_id = cfg.node_id;
  no.room_idle = std::chrono::milliseconds(cfg.room_idle_ms);
  no.trim_interval = std::chrono::milliseconds(cfg.trim_interval_ms);
  no.replication = cfg.replication;
  no.presence_ttl = std::chrono::milliseconds(cfg.presence_ttl_ms);
  no.presence_coalesce = std::chrono::milliseconds(cfg.presence_coalesce_ms);
  auto node = chat::actors::spawn_node(sys, no, std::move(db));
  // A cluster node serves clients only once it has joined (readiness).
  std::unique_ptr<chat::cluster::membership> members;
  if (cfg.cluster) {
    members = chat::cluster::membership::start(sys, node, co, error);
    if (!members) {
      chat::actors::stop_node(sys, node);
      return fail("cluster: " + error);
    }
    spdlog::info("node {} in the cluster on {} ({} member(s) known)", cfg.node_id,
                 members->local_endpoint().to_string(), members->members().size());
  }

  chat::gateway::server_options go;
  go.http = cfg.http;
  go.auth = auth;
  go.heartbeat_ms = cfg.heartbeat_ms;
  go.io_threads = cfg.io_threads;
  go.command_rate = cfg.command_rate;
  go.connect_rate = cfg.connect_rate;
  // Connection limits that the descriptor limit can keep: the documented 503
  // comes before accept() fails for want of descriptors.
  auto fds = chat::runtime::raise_descriptor_limit();
  go.limits = cfg.limits;
  if (go.limits.max_sockets == 0)
    go.limits.max_sockets = static_cast<uint32_t>(fds.sockets);
  if (go.limits.max_sockets > fds.sockets)
    spdlog::warn("--max-sockets {} is more than the {} descriptors (RLIMIT_NOFILE) leave for "
                 "sockets after a reserve of {}: raise the limit (ulimit -n) or lower the flag",
                 go.limits.max_sockets, fds.sockets, fds.reserve);
  go.outbound_queue_bytes = cfg.outbound_queue_bytes;
  go.request_timeout = std::chrono::milliseconds(cfg.request_timeout_ms);
  go.allowed_origins = cfg.allowed_origins;
  go.tls_cert_file = cfg.tls_cert;
  go.tls_key_file = cfg.tls_key;
  if (faults)
    go.fault_control = chatd::fault_control(sys, *faults, cfg.node_id, members);
  int code = 0;
  int sig = 0;
  {
    chat::gateway::server gateway{sys, node, go};
    if (!gateway.start(error)) {
      code = fail(error);
    } else {
      if (cfg.dev)
        spdlog::warn("DEV MODE: any client may connect as any user with ?user=NAME; "
                     "never expose this node");
      if (auth->verifies_tokens())
        spdlog::info("client tokens: {}", cfg.jwt_secret.empty() ? "RS256" : "HS256");
      spdlog::info("node {} listening on {}://{} (data in {}, durability {})", cfg.node_id,
                   cfg.tls_cert.empty() ? "http" : "https",
                   gateway.local_endpoint().to_string(), cfg.data_dir,
                   so.sync ? "sync" : "async");
      sigwait(&signals, &sig);
      spdlog::info("{} received: closing connections", sig == SIGINT ? "SIGINT" : "SIGTERM");
      gateway.stop();
    }
  }
  // SIGTERM: this node leaves the cluster and hands its rooms over. SIGINT
  // (Ctrl-C, also how `chatd cluster` stops a whole cluster): it only stops,
  // and its rooms wait here for it to come back.
  if (members) {
    if (sig == SIGTERM)
      spdlog::info("leaving the cluster: handing rooms over");
    members->leave(sig == SIGTERM);
  }
  chat::actors::stop_node(sys, node);
  if (code == 0)
    spdlog::info("store flushed, bye");
  deadline.arm(exit_grace, code);
  return code; // the actor system's destructor waits for its last actors
}

} // namespace

int main(int argc, char** argv) {
  try {
    if (argc > 1 && std::string_view{argv[1]} == "cluster")
      return chatd::run_cluster_command(argc - 1, argv + 1);
    auto parsed = chat::runtime::parse_node_config(argc, argv);
    if (auto* exit = std::get_if<chat::runtime::parse_exit>(&parsed)) {
      (exit->code == 0 ? std::cout : std::cerr) << exit->text << '\n';
      return exit->code;
    }
    return run(std::get<chat::runtime::node_config>(parsed));
  } catch (const std::exception& e) {
    std::cerr << (std::string{"chatd: fatal: "} + e.what() + '\n');
    return 2;
  }
}
