#include "chat/cluster/membership.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/messages.hpp"
#include "cluster_link.hpp"
#include "cluster_messages.hpp"
#include "cluster_secret.hpp"
#include "membership_actor.hpp"
#include "raft_disk.hpp"

namespace chat::cluster {

void configure(caf::actor_system_config& cfg, const cluster_options& opts) {
  cfg.load<caf::io::middleman>();
  if (opts.tls.on()) {
    // Peers must present a certificate signed by the cluster's CA (CAF then
    // asks for and verifies one); a plain-TCP peer fails the TLS handshake.
    cfg.load<caf::openssl::manager>();
    cfg.openssl_certificate = opts.tls.cert;
    cfg.openssl_key = opts.tls.key;
    cfg.openssl_cafile = opts.tls.ca;
  }
  // No automatic connections: CAF's helper for them is a detached actor that
  // can outlive a departed peer by minutes (and so block the system's
  // shutdown). A joining node connects to every member itself instead.
  cfg.set("middleman.enable-automatic-connections", false);
  // Without middleman heartbeats a hung peer (process stopped, TCP open) is
  // never reported; they must be set on every node alike.
  cfg.set("middleman.heartbeat-interval", caf::timespan{opts.heartbeat});
  cfg.set("middleman.connection-timeout", caf::timespan{opts.failure_timeout});
  cfg.add_message_type<node_info>("chat::cluster::node_info");
  cfg.add_message_type<hello>("chat::cluster::hello");
  cfg.add_message_type<member_list>("chat::cluster::member_list");
  cfg.add_message_type<raft_packet>("chat::cluster::raft_packet");
}

namespace {

constexpr int connect_attempts = 4;

// A direct middleman connection to every member the seed listed (so that no
// member's traffic depends on the seed staying up), then a hello over it.
void connect_members(caf::actor_system& sys, const caf::actor& me, const std::string& self_id,
                     const member_list& members, const dial_fn& dial, bool tls) {
  caf::scoped_actor scoped{sys};
  for (auto& m : members) {
    if (m.node_id == self_id)
      continue;
    std::string err;
    auto ep = runtime::parse_endpoint(m.endpoint, err);
    if (ep)
      ep = dial_target(dial, *ep);
    auto direct = ep ? connect_member(sys, ep->host, ep->port, tls)
                     : caf::expected<caf::actor>{caf::sec::invalid_argument};
    // A member that has just started may not answer its first handshake in
    // time (a loaded machine): try a few times before going without the link.
    for (int attempt = 1; ep && !direct && attempt < connect_attempts; ++attempt) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
      direct = connect_member(sys, ep->host, ep->port, tls);
    }
    if (!direct) {
      spdlog::warn("cluster: no direct link to '{}' at {}: {}", m.node_id, m.endpoint,
                   ep ? sys.render(direct.error()) : err);
      caf::anon_send(me, known_atom::value, m);
      continue;
    }
    scoped->request(me, std::chrono::seconds(10), greet_atom::value, *direct)
      .receive([](bool) {},
               [&](caf::error& e) {
                 spdlog::warn("cluster: '{}' did not answer: {}", m.node_id, sys.render(e));
                 caf::anon_send(me, known_atom::value, m);
               });
  }
}

} // namespace

std::unique_ptr<membership> membership::start(caf::actor_system& sys,
                                              const actors::node_handles& node,
                                              cluster_options opts, std::string& error) {
  // A damaged membership log is a start failure, not a node that goes on
  // without one (the actor opens it later, once its endpoint is known).
  if (!opts.members_file.empty()) {
    try {
      raft_disk check{std::filesystem::path(opts.members_file).parent_path().string()};
    } catch (const std::exception& e) {
      error = std::string("the membership log cannot be read: ") + e.what();
      return nullptr;
    }
  }
  membership_settings settings;
  settings.node_id = node.node_id;
  settings.directory = node.directory;
  settings.heartbeat = opts.heartbeat;
  settings.failure_timeout = opts.failure_timeout;
  settings.members_file = opts.members_file;
  settings.joining = !opts.seeds.empty();
  settings.dial = opts.dial;
  settings.secrets = opts.secrets;
  settings.tls = opts.tls.on();
  settings.replication = node.replication;
  // With port 0 the actor learns its real port right after publishing (the
  // endpoint is only for logs and status).
  settings.endpoint = opts.listen.to_string();
  auto actor = spawn_membership(sys, settings);
  auto port = publish_member(sys, actor, opts.listen.host, opts.listen.port, opts.tls.on());
  if (!port) {
    error = "cannot listen for the cluster on " + opts.listen.to_string() + ": "
            + sys.render(port.error());
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    return nullptr;
  }
  runtime::endpoint local{opts.listen.host, *port};
  caf::anon_send(actor, endpoint_atom::value, local.to_string());
  // The admin API's actors of this node list it too.
  if (node.inspector)
    caf::anon_send(node.inspector, msg::actors_atom::value, std::string{"membership"}, actor);
  std::unique_ptr<membership> self{new membership(sys, actor, node.directory, local)};
  if (opts.seeds.empty())
    return self;
  // Rooms and users routed here before the view is complete wait (see joining_atom).
  caf::anon_send(node.directory, msg::joining_atom::value, true);
  caf::scoped_actor scoped{sys};
  std::string last_error = "no seed given";
  auto deadline = std::chrono::steady_clock::now() + opts.join_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (auto& seed : opts.seeds) {
      auto target = dial_target(opts.dial, seed);
      auto handle = connect_member(sys, target.host, target.port, opts.tls.on());
      if (!handle) {
        last_error = "cannot reach " + seed.to_string() + ": " + sys.render(handle.error());
        continue;
      }
      bool joined = false;
      member_list members;
      scoped->request(actor, opts.join_timeout, join_atom::value, *handle)
        .receive(
          [&](member_list& xs) {
            joined = true;
            members = std::move(xs);
          },
          [&](caf::error& err) {
            last_error = "refused by " + seed.to_string() + ": " + sys.render(err);
          });
      if (joined) {
        connect_members(sys, actor, node.node_id, members, opts.dial, opts.tls.on());
        scoped->request(actor, std::chrono::seconds(10), ready_atom::value)
          .receive([](bool) {}, [](caf::error&) {});
        return self;
      }
      if (last_error.find("already in use") != std::string::npos
          || last_error.find("protocol version") != std::string::npos
          || last_error.find("cluster secret") != std::string::npos) {
        error = last_error;
        self->leave();
        return nullptr;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  error = "could not join the cluster: " + last_error;
  self->leave();
  return nullptr;
}

std::optional<std::vector<std::string>> read_cluster_secrets(const std::string& path,
                                                             std::string& error) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    error = "cannot read '" + path + "'";
    return std::nullopt;
  }
  std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
  auto secrets = parse_cluster_secrets(text, error);
  if (!secrets)
    error = "'" + path + "': " + error;
  return secrets;
}

membership::~membership() {
  leave();
}

namespace {

// The membership actor's answer to `atom`, or a default value when it is gone
// or silent (a node that is stopping).
template <class Result, class Atom>
Result ask_membership(caf::actor_system& sys, const caf::actor& actor, Atom atom) {
  Result out;
  if (!actor)
    return out;
  caf::scoped_actor scoped{sys};
  scoped->request(actor, std::chrono::seconds(5), atom)
    .receive(
      [&](Result& x) {
        out = std::move(x);
      },
      [](caf::error&) {});
  return out;
}

} // namespace

std::vector<member_status> membership::members() const {
  auto out = ask_membership<member_statuses>(sys_, actor_, status_atom::value).members;
  std::sort(out.begin(), out.end(), [](auto& x, auto& y) {
    return x.node_id < y.node_id;
  });
  return out;
}

log_status membership::log() const {
  return ask_membership<log_status>(sys_, actor_, log_atom::value);
}

void membership::leave(bool hand_over, std::chrono::milliseconds timeout) {
  if (!actor_)
    return;
  // Goodbye only after a complete handover: the others then stop counting this
  // node, and a room copy it still held would no longer be met by their
  // take-over quorum (ADR 8). Without one it stays a member, down.
  bool goodbye = false;
  if (hand_over) {
    caf::scoped_actor scoped{sys_};
    scoped->request(directory_, timeout, msg::handover_atom::value)
      .receive(
        [&](bool) {
          goodbye = true;
        },
        [&](caf::error& err) {
          spdlog::error("cluster: handover incomplete ({}); the other nodes keep counting this "
                        "one as a member",
                        sys_.render(err));
        });
  }
  caf::anon_send(actor_, leave_atom::value, goodbye);
  actor_ = nullptr;
}

} // namespace chat::cluster
