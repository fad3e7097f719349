#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "chat/actors/metrics.hpp"
#include "chat/storage/records.hpp"
#include "store_messages.hpp"

namespace chat::actors {

namespace room {

struct room_state;

/// The actor of one room (room_state.hpp): its log's only writer.
using room_self = msg::room_actor::stateful_pointer<room_state>;

} // namespace room

/// Where a room's log is kept besides its home, and how the home becomes its
/// only writer (ADR 8: primary-backup with ballots).
struct room_nodes {
  std::string room;
  std::string node_id;                     ///< this node: the room's home
  msg::store_actor store;                  ///< this node's store
  std::vector<msg::directory_actor> peers; ///< the directories of every other node in the view
  std::vector<msg::directory_actor>
    replicas; ///< the directories of the other nodes of the replica set
  std::vector<std::string> replica_ids; ///< their node ids
  uint64_t epoch = 0;                   ///< the member set counted (cluster_view::epoch)
  uint64_t committed = 0;               ///< cluster_view::committed
  std::shared_ptr<node_metrics> metrics;
};

/// Makes this node the room's writer. It asks every node of the view to promise
/// a ballot newer than any it promised before (nothing older is written there
/// afterwards), takes the best log among the answers (the one its newest
/// writer wrote, then the longest) in place of its own part after its commit
/// point, and writes that log onto every replica. `done` gets the room's meta,
/// everything in it on every replica; `failed` an error when a node does not
/// answer in time or keeps promising newer ballots (the room then stops; the
/// next request activates it again). The actor handles nothing else meanwhile.
/// `Self`: the room's actor (room::room_self), or a plain event_based_actor
/// (the take-over's tests); both are instantiated in room_replication.cpp.
template <class Self>
void take_over(Self self, room_nodes nodes, storage::room_meta own,
               std::function<void(storage::room_meta&)> done,
               std::function<void(const caf::error&)> failed);

/// Writes the records a commit stored (the part after `after`, ending at
/// `meta.seq`) onto every replica under the ballot `meta.promised`. `done` once
/// all of them hold it; `failed` when one refuses (a newer home: errc::fenced),
/// is behind or does not answer in time.
void replicate(room::room_self self, const room_nodes& nodes, uint64_t after,
               const std::vector<storage::message_record>& records,
               const storage::room_meta& meta, std::function<void()> done,
               std::function<void(const caf::error&)> failed);

} // namespace chat::actors
