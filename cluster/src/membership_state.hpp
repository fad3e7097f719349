#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/response_promise.hpp>
#include <caf/stateful_actor.hpp>

#include "chat/actors/frame.hpp"
#include "cluster_messages.hpp"
#include "cluster_secret.hpp"
#include "copies_ledger.hpp"
#include "membership_actor.hpp"
#include "raft_node.hpp"

// The membership actor's state, shared by its two halves: the failure
// detector and handshakes (membership_actor.cpp) and the membership log that
// decides who the members are (membership_log.cpp).

namespace chat::cluster {

struct peer {
  node_info info;
  int64_t last_heard_ms = 0;
  int64_t last_dial_ms = 0; ///< when a down peer was last dialled
  bool up = false;
};

struct membership_state {
  membership_settings opts;
  cluster_secret secret;
  node_info me;
  std::map<std::string, peer> peers;      ///< node id -> what we know of it
  std::map<std::string, int64_t> nonces;  ///< challenges issued -> when they expire
  std::unique_ptr<raft_node> log;         ///< the membership log, once the endpoint is known
  raft_index published = 0;               ///< the log's configuration last published
  std::set<std::string> voters_published; ///< the voters of that configuration
  copies_ledger copies;                   ///< the log's state machine (copies_ledger.hpp)
  uint32_t copies_published = 0;          ///< the view's `copies` last published
  bool repairing = false;                 ///< this node's directory repairs for the ledger
  int64_t next_repair_ms = 0;             ///< when to repair (again), or report again
  uint32_t repair_failures = 0;           ///< sweeps in a row that left rooms short
  uint64_t failed_generation = 0;         ///< the ledger generation they were for
  bool repair_again = false;              ///< a member came up during the sweep
  uint64_t reported = 0;                  ///< the ledger generation this node repaired for
  /// The leader's "repaired" entries in flight: member -> for which "short",
  /// and when to propose again (one lost with a leadership change).
  struct recording {
    uint64_t generation = 0;
    int64_t until_ms = 0;
  };
  std::map<std::string, recording> recording_repaired;
  std::set<std::string> left; ///< members that said goodbye (the leader removes them)
  /// Removals asked here (member, the directory's request): answered once the
  /// log's member set no longer holds the member, or dropped with an error
  /// past `removal_wait` (the directory waits no longer).
  struct removal {
    std::string id;
    caf::response_promise rp;
    int64_t until_ms = 0;
  };
  std::vector<removal> removals;
  bool changing = false;       ///< a configuration change is in flight (leader)
  uint64_t strangers_seen = 0; ///< raft_node::strangers() when last looked at
  int64_t strangers_warned_ms = 0;
  std::vector<caf::response_promise> ready; ///< `ready` waits until this node is a voter
  static inline const char* name = "membership";
};

using membership_self = caf::stateful_actor<membership_state>;

/// Gives the directory the current view (and logs it).
void publish_view(membership_self* self);

/// How long a removal asked here waits for the log to commit it.
inline constexpr int64_t removal_wait_ms = 30000;

/// A member this node has not met (the seed listed it, or the log holds it):
/// it counts, down, and the tick dials it until it answers. False when known.
bool add_down_peer(membership_self* self, const std::string& id, const std::string& endpoint,
                   uint64_t raft_id);

// The membership log (membership_log.cpp).

/// Opens and starts the log once this node's endpoint is known; a node
/// started without seeds and without a log bootstraps a cluster of itself.
void start_log(membership_self* self);
void on_raft_packet(membership_self* self, raft_packet& packet);
/// The log's clock; on the leader, also the changes the members ask for
/// (a member that said hello is added, one that said goodbye removed).
void on_raft_tick(membership_self* self);
/// A member says it repaired its rooms after the ledger's `generation`th
/// "short": the leader records it (copies_ledger.hpp).
void on_repaired(membership_self* self, uint64_t generation);
/// The fewest copies a take-over must count with (the view's `copies`).
uint32_t short_copies(membership_self* self);
/// The node ids of the log's voters; empty before the log has any (a node
/// joining, or one without a log: then every member met counts).
std::set<std::string> log_voters(membership_self* self);
/// Whether this node may count as a member (a voter, or no log yet).
bool admitted(membership_self* self);
log_status log_of(membership_self* self);
/// The admin API's view of this node's membership: its log (index, commit,
/// term, leader, voters) and its peers up or down.
actors::frame inspect(membership_self* self);

} // namespace chat::cluster
