#include <algorithm>

#include "chat/actors/errc.hpp"
#include "directory_state.hpp"
#include "room_export.hpp"

namespace chat::actors::directory {

namespace {

// How many members (this one included) a node must reach to take a room over:
// a majority, and enough that its prepare meets every possible replica set of
// R nodes (Flexible Paxos: a phase-1 quorum of N - R + 1 intersects every
// phase-2 quorum of R among N). A majority alone does not: two views can each
// hold one (asymmetric reachability) while the room's R nodes are all outside
// one of them (ADR 8; cluster_test, five nodes).
size_t prepare_quorum(size_t members, size_t replication) {
  return std::max(members / 2 + 1, members - replication + 1);
}

// Asks the store on behalf of another node and answers with what it says. Not
// a delegation: the store (a detached actor) must never answer another node
// itself. A remote node that learns a detached actor's handle keeps it
// referenced, and the actor system then waits for it forever at shutdown.
template <class Reply, class... Ts>
void ask_store(directory_self self, const msg::store_actor& store,
               caf::typed_response_promise<Reply> rp, Ts... xs) {
  self->request(store, store_timeout, std::move(xs)...)
    .then(
      [=](Reply& r) mutable {
        rp.deliver(std::move(r));
      },
      [=](caf::error& err) mutable {
        rp.deliver(err);
      });
}

} // namespace

caf::result<msg::room_import> pull(directory_self self, const msg::store_actor& store,
                                   msg::room_pull& x) {
  auto rp = self->make_response_promise<msg::room_import>();
  auto reply = [=]() mutable {
    export_part(
      self, store, x.room, x.after,
      [=](msg::room_import& part, uint64_t, bool) mutable {
        rp.deliver(std::move(part));
      },
      [=](caf::error& err) mutable {
        rp.deliver(err);
      });
  };
  // A room active here stops (after its commit) before its log is read.
  when_room_stopped(self, x.room, reply);
  return rp;
}

// A room still active here has a newer home: it stops after its commit in
// flight, then the store gives the promise.
caf::result<msg::room_promise> prepare(directory_self self, const msg::store_actor& store,
                                       msg::room_prepare& x) {
  auto rp = self->make_response_promise<msg::room_promise>();
  when_room_stopped(self, x.room, [=] {
    ask_store(self, store, rp, x);
  });
  return rp;
}

// A new home synced its whole log here: the log is now its ballot's.
caf::result<msg::room_promise> accept(directory_self self, const msg::store_actor& store,
                                      msg::room_prepare& x) {
  auto rp = self->make_response_promise<msg::room_promise>();
  ask_store(self, store, rp, msg::accept_atom::value, std::move(x));
  return rp;
}

caf::result<uint64_t> replicate(directory_self self, const msg::store_actor& store,
                                msg::room_replicate& x) {
  auto rp = self->make_response_promise<uint64_t>();
  ask_store(self, store, rp, std::move(x));
  return rp;
}

caf::result<msg::room_nodes_of> replicas(directory_self self, uint32_t replication,
                                         const std::string& room) {
  auto& st = self->state;
  msg::room_nodes_of out;
  if (st.ring.empty())
    return out;
  auto owners = st.ring.owners(runtime::hash_ring::room_key(room), replication);
  // Members that are down still count: a node that lost its peers (or was
  // paused past the failure timeout) must not write alone.
  auto members = std::max<size_t>(st.view.members, st.view.nodes.size());
  auto needed = std::min<size_t>(replication, members);
  // Counted: the nodes a take-over prepares (this one and its peers), not the
  // view: a node that said it is leaving is out of the peers already.
  auto reached = st.peers.size() + 1;
  // Rooms written while the cluster had fewer than R members may still have
  // fewer copies (the membership log's copies ledger): the quorum meets those.
  auto copies = st.view.copies != 0 ? std::min<size_t>(needed, st.view.copies) : needed;
  if (auto quorum = prepare_quorum(members, copies); reached < quorum)
    return caf::make_error(errc::room_unavailable,
                           "this node reaches " + std::to_string(reached) + " of "
                             + std::to_string(members) + " cluster members; "
                             + std::to_string(quorum) + " are needed to write"
                             + (copies < needed ? " until every member repaired the rooms "
                                                  "written while the cluster was smaller"
                                                : ""));
  if (owners.size() < needed)
    return caf::make_error(errc::room_unavailable,
                           "room '" + room + "': " + std::to_string(owners.size()) + " of the "
                             + std::to_string(needed) + " nodes that keep it are up");
  out.epoch = st.view.epoch;
  out.committed = st.view.committed;
  for (auto& [id, dir] : st.peers)
    out.peers.push_back(dir);
  for (auto& id : owners)
    if (auto i = st.peers.find(id); i != st.peers.end()) {
      out.replicas.push_back(i->second);
      out.replica_ids.push_back(id);
    }
  return out;
}

} // namespace chat::actors::directory
