#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "chat/cluster/membership.hpp"

// What membership actors say to each other (all of it crosses nodes).

namespace chat::cluster {

/// Who a node is: its id, protocol version, membership and directory actors.
struct node_info {
  std::string node_id;
  uint32_t version = 0;
  caf::actor membership;
  caf::actor directory;
  std::string endpoint; ///< where its membership actor is published
  /// In a reply to a hello: the replier's proof that it knows the cluster secret.
  std::string proof;
  /// Its server id in the membership log (Raft); 0 before it has one.
  uint64_t raft_id = 0;
};

/// A Raft message between two members' membership logs (raft_wire's bytes).
struct raft_packet {
  std::vector<uint8_t> bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, raft_packet& x) {
  return f(caf::meta::type_name("chat::cluster::raft_packet"), x.bytes);
}

/// A node introduces itself; the reply is the list of members the receiver
/// knows (itself included), or an error when the node is refused. With a
/// cluster secret: `nonce` is the receiver's challenge, `proof` answers it, and
/// the receiver answers `client_nonce` in the first member's `proof`.
struct hello {
  node_info info;
  std::string nonce;
  std::string client_nonce;
  std::string proof;
};

using member_list = std::vector<node_info>;

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_info& x) {
  return f(caf::meta::type_name("chat::cluster::node_info"), x.node_id, x.version, x.membership,
           x.directory, x.endpoint, x.proof, x.raft_id);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hello& x) {
  return f(caf::meta::type_name("chat::cluster::hello"), x.info, x.nonce, x.client_nonce,
           x.proof);
}

/// `(challenge_atom)` -> std::string: a nonce for the next hello (cluster secret).
using challenge_atom = caf::atom_constant<caf::atom("challenge")>;
/// `(beat_atom, node_id)`: a member is alive.
using beat_atom = caf::atom_constant<caf::atom("beat")>;
/// `(bye_atom, node_id)`: a member leaves the cluster for good.
using bye_atom = caf::atom_constant<caf::atom("bye")>;
/// `(repaired_atom, generation)`, to the membership log's leader: the sender
/// repaired its rooms after the copies ledger's `generation`th "short".
using repaired_atom = caf::atom_constant<caf::atom("repaired")>;
/// Local: `(join_atom, caf::actor seed_membership)` -> bool, joins through a seed.
using join_atom = caf::atom_constant<caf::atom("join")>;
/// Local: `(greet_atom, caf::actor membership)` -> bool, says hello to a member.
using greet_atom = caf::atom_constant<caf::atom("greet")>;
/// Local: `(known_atom, node_info)`: a member the seed listed that this node
/// could not reach while joining. It counts as a member (down) and is dialled
/// again like any down member, so that the two end up knowing each other.
using known_atom = caf::atom_constant<caf::atom("known")>;
/// Local: the membership log's clock (raft_node::advance), every 50 ms.
using raft_tick_atom = caf::atom_constant<caf::atom("raft_tick")>;
/// Local: the heartbeat and failure-detector timer.
using tick_atom = caf::atom_constant<caf::atom("tick")>;
/// Local: `(status_atom)` -> member_statuses: every member this node knows.
using status_atom = caf::atom_constant<caf::atom("status")>;
struct member_statuses {
  std::vector<member_status> members;
};
/// Local: `(log_atom)` -> log_status: the membership log on this node.
using log_atom = caf::atom_constant<caf::atom("log")>;
/// Local: `(endpoint_atom, std::string)`: where the actor was published.
using endpoint_atom = caf::atom_constant<caf::atom("endpoint")>;
/// Local: `(ready_atom)` -> bool: the join is complete (every member greeted);
/// the directory gets the full view, then may host rooms and users.
using ready_atom = caf::atom_constant<caf::atom("ready")>;
/// Local: `(leave_atom, goodbye)`: stop; with goodbye, first tell every member
/// to forget this node (only after a complete handover).
using leave_atom = caf::atom_constant<caf::atom("leave")>;

} // namespace chat::cluster

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::cluster::member_statuses)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::cluster::log_status)
