#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "chat/actors/commands.hpp"
#include "chat/storage/store.hpp"
#include "node_messages.hpp"

// What the store actor is asked (besides the room-log messages of
// node_messages.hpp that the directory forwards to it). Local-only: they
// carry storage types and never leave a node.

namespace chat::msg {

struct store_append {
  storage::room_append req;
};

struct store_load {
  std::string room;
};

/// Store a read receipt (group-committed); the reply comes after the commit.
struct store_receipt {
  storage::receipt_update update;
};

/// Store a user's last-seen time (group-committed, no reply).
struct store_last_seen {
  storage::last_seen_update update;
};

/// A room's stored receipts, as (user, seq).
struct store_load_receipts {
  std::string room;
};

using receipt_list = std::vector<std::pair<std::string, uint64_t>>;

/// A user's stored last-seen time; the reply is 0 when never seen.
struct store_load_last_seen {
  std::string user;
};

/// A history read: newest first below `before` (0 = from the end) or, with
/// `after`, oldest first above it.
struct store_read {
  std::string room;
  history_window window;
};

using message_list = std::vector<storage::message_record>;

/// Store: what the group commit has done so far (for tests and metrics).
struct store_stats {
  uint64_t appends = 0; ///< room appends committed
  uint64_t commits = 0; ///< WriteBatches written (one fsync each with sync durability)
  // Read when asked (the admin API), not kept:
  uint64_t pending = 0;        ///< writes in the group not committed yet
  uint64_t mailbox = 0;        ///< messages waiting for the store
  bool failing = false;        ///< the last group commit failed
  uint64_t commit_mean_us = 0; ///< a group commit's mean duration since the start
  uint64_t commit_p99_us = 0;  ///< the bucket bound its 99th percentile falls under
  std::string rocksdb_stats;   ///< RocksDB's `rocksdb.stats` report
  std::vector<std::pair<std::string, uint64_t>> properties; ///< RocksDB integer properties
};

using stats_atom = caf::atom_constant<caf::atom("stats")>;

/// Store: every room with a stored log -> std::vector<std::string>.
using rooms_atom = caf::atom_constant<caf::atom("rooms")>;

/// Store: commit what is pending (the group commit trigger).
using flush_atom = caf::atom_constant<caf::atom("flush")>;

/// Store: ask RocksDB to write again after a failed commit (a full disk).
using resume_atom = caf::atom_constant<caf::atom("resume")>;

// Store: `(trim_atom)` applies the retention policy (a sweep; again soon if
// there is more); `(trim_atom, actor)`: tell that actor `(trim_atom, room,
// seq)` when a sweep removed a room's messages up to seq (the directory, which
// tells the room actor, so that it never replays them from memory).
// `(shutdown_atom)`: flush everything to disk and answer.

/// The store actor's interface: every request it takes and what it answers
/// with. Appends, receipts, promises and replica copies are answered after
/// their group commit; `flush_atom` and `resume_atom` are its own timers.
using store_actor =
  caf::typed_actor<caf::replies_to<store_append>::with<storage::room_append_result>,
                   caf::replies_to<store_receipt>::with<bool>, caf::reacts_to<store_last_seen>,
                   caf::reacts_to<flush_atom>, caf::replies_to<stats_atom>::with<store_stats>,
                   caf::replies_to<store_load>::with<storage::room_meta>,
                   caf::replies_to<store_load_receipts>::with<receipt_list>,
                   caf::replies_to<store_load_last_seen>::with<int64_t>,
                   caf::replies_to<store_read>::with<message_list>,
                   caf::replies_to<rooms_atom>::with<std::vector<std::string>>,
                   caf::replies_to<room_prepare>::with<room_promise>,
                   caf::replies_to<accept_atom, room_prepare>::with<room_promise>,
                   caf::replies_to<room_replicate>::with<uint64_t>, caf::reacts_to<resume_atom>,
                   caf::reacts_to<trim_atom>, caf::reacts_to<trim_atom, caf::actor>,
                   caf::replies_to<shutdown_atom>::with<bool>>;

} // namespace chat::msg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_append)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_load)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_receipt)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_last_seen)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_load_receipts)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::receipt_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_load_last_seen)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_read)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::message_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::msg::store_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::storage::room_meta)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(chat::storage::room_append_result)
