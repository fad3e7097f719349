#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "chat/actors/node.hpp"
#include "chat/cluster/fault_injector.hpp"
#include "chat/runtime/endpoint.hpp"

namespace chat::cluster {

/// Nodes of another protocol version are refused at the handshake. 2: the
/// hello carries the cluster-secret challenge. 3: a room's log is copied in
/// staged parts (room_replicate's `from` and `last`), accepted by the replica,
/// and `room_joined` says what retention removed. 4: a frame carries its error
/// code next to its JSON. 5: a fanned-out message carries when its room received
/// it (the delivery latency metric). 6: members are decided by a Raft log (the
/// hello carries the node's Raft id; `raft_packet`). 7: a node's summary names
/// its inspector. 8: a directory answers `(repair_atom)` (POST /admin/api/repair).
/// 9: the membership log carries the copies ledger's commands; a member's
/// removal (`remove_atom`, `gone_atom`, `(repair_atom, node)`).
inline constexpr uint32_t protocol_version = 9;

struct cluster_options {
  /// Where this node's membership actor is published (CAF middleman); port 0
  /// picks a free one (see `membership::local_endpoint`).
  runtime::endpoint listen{"127.0.0.1", 0};
  /// Nodes to join through; any one member is enough. Empty: start a cluster.
  std::vector<runtime::endpoint> seeds;
  /// Application heartbeat interval between members. Default: 500 ms.
  std::chrono::milliseconds heartbeat{500};
  /// A member not heard from for this long is down. Default: 3000 ms.
  std::chrono::milliseconds failure_timeout{3000};
  /// How long joining may take before start() gives up. Default: 10 s.
  std::chrono::milliseconds join_timeout{10000};
  /// Where the members this node knows are kept across restarts (one
  /// "id endpoint" line each); empty: nowhere. A node restarted without
  /// `seeds` counts them as down and dials them, instead of writing alone.
  std::string members_file;
  /// What to dial instead of a member's endpoint; empty: the endpoint itself.
  /// A test routes a node through a `fault_injector` link here.
  dial_fn dial;
  /// The cluster secret: every member must prove it knows it (an HMAC over the
  /// other side's nonce; the secret never crosses the network). The first one
  /// proves, every one is accepted (two while rotating). Empty: no secret, any
  /// node that can reach the cluster port may join (docs/security.md).
  std::vector<std::string> secrets;
  /// TLS between members (CAF's OpenSSL module): this node's certificate chain
  /// and key (PEM files), and the CA file every member's certificate must be
  /// signed by. All empty: plain TCP. Either all three or none.
  struct tls_files {
    std::string cert;
    std::string key;
    std::string ca;
    [[nodiscard]] bool on() const { return !cert.empty(); }
  } tls;
};

/// Checks the TLS files before any link needs them (CAF loads them only when a
/// connection opens, so a bad file would show only as failed handshakes): the
/// certificate chain and key are PEM, the key belongs to the certificate, the
/// CA file holds certificates. On failure sets `error` to a one-line reason.
[[nodiscard]] bool check_tls_files(const cluster_options::tls_files& tls, std::string& error);

/// Reads a cluster secret file: one secret per line (the current one, then
/// optionally the one being retired), each at least 16 bytes after trimming.
/// On failure returns nothing and sets `error` to a one-line reason.
[[nodiscard]] std::optional<std::vector<std::string>>
read_cluster_secrets(const std::string& path, std::string& error);

/// Loads CAF's middleman, sets its heartbeats from `opts`, and registers the
/// cluster's message types. Call on the config before the actor system exists.
void configure(caf::actor_system_config& cfg, const cluster_options& opts);

/// One member's state as this node sees it.
struct member_status {
  std::string node_id;
  std::string endpoint;
  bool up = false;
};

/// The membership log (Raft) as one node holds it: who the members are is
/// decided there (ADR 10).
struct log_status {
  uint64_t index = 0;  ///< log index of the member set in use: the view number
  uint64_t commit = 0; ///< the log's commit index on this node
  uint64_t term = 0;
  std::string leader; ///< the leader this node follows (node id); empty: none known
  std::vector<std::string> voters; ///< the members, sorted
  /// The fewest copies a room may have that a take-over here counts with:
  /// rooms written while the cluster had fewer than R members, until every
  /// member repaired them (ADR 8). 0: every room has min(R, members).
  uint32_t copies = 0;
  /// How many times the log recorded that the cluster grew from fewer than R
  /// voters, and whether every voter has repaired since the last time.
  uint64_t shorts = 0;
  bool repaired = false;
};

/// This node's membership in a cluster: a membership actor, published through
/// the middleman, that exchanges heartbeats with every other member, detects
/// failures (a lost connection, or heartbeats missing for `failure_timeout`),
/// and gives the node's directory each new view (which rebuilds its ring).
class membership {
public:
  /// Publishes the membership actor and, with seeds, joins through the first
  /// that answers. Fails (with a one-line reason) when nothing can be
  /// published, no seed answers, or the cluster refuses this node (its id is
  /// taken, or it speaks another protocol version).
  [[nodiscard]] static std::unique_ptr<membership> start(caf::actor_system& sys,
                                                         const actors::node_handles& node,
                                                         cluster_options opts,
                                                         std::string& error);

  ~membership();
  membership(const membership&) = delete;
  membership& operator=(const membership&) = delete;

  [[nodiscard]] runtime::endpoint local_endpoint() const { return endpoint_; }

  /// Every member this node knows, itself included, sorted by id.
  [[nodiscard]] std::vector<member_status> members() const;

  /// The membership log on this node (all zero when the node has none).
  [[nodiscard]] log_status log() const;

  /// Leaves the cluster: with `hand_over`, first moves every room stored here
  /// to its next home (waiting up to `timeout`); then says goodbye to the other
  /// members (they drop this node from their ring at once) and stops the
  /// membership actor. Without a handover the rooms stay here, unreachable
  /// until the node returns (a whole cluster stopping keeps its data in place).
  void leave(bool hand_over = true,
             std::chrono::milliseconds timeout = std::chrono::seconds(20));

private:
  membership(caf::actor_system& sys, caf::actor actor, caf::actor directory,
             runtime::endpoint endpoint) :
    sys_(sys),
    actor_(std::move(actor)), directory_(std::move(directory)), endpoint_(std::move(endpoint)) {
  }

  caf::actor_system& sys_;
  caf::actor actor_;
  caf::actor directory_;
  runtime::endpoint endpoint_;
};

} // namespace chat::cluster
