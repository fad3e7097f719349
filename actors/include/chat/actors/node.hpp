#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "chat/actors/commands.hpp"
#include "chat/actors/connection_registry.hpp"
#include "chat/actors/messages.hpp"
#include "chat/actors/metrics.hpp"

namespace chat::storage {
class store;
} // namespace chat::storage

namespace chat::actors {

/// Registers every message type of this module with CAF. Call on each node's
/// config before the actor system is constructed.
void register_types(caf::actor_system_config& cfg);

/// The node-wide actors a connection (or an embedding service) talks to.
struct node_handles {
  std::string node_id;
  /// Nodes that keep each room's log (node_options::replication): the cluster's
  /// membership log records when rooms may have fewer (ADR 8).
  uint32_t replication = 2;
  caf::actor store;     ///< owns RocksDB, detached
  caf::actor directory; ///< room name -> room actor, activates on demand
  caf::actor inspector; ///< the admin API's questions about connections
  std::shared_ptr<node_metrics> metrics = std::make_shared<node_metrics>();
  /// The gateway attaches its live connections here (the admin API lists them).
  std::shared_ptr<connection_registry_slot> connections =
    std::make_shared<connection_registry_slot>();
};

struct node_options {
  std::string node_id = "n1";
  /// An empty room's (or an offline, unwatched user's) actor stops after this long.
  std::chrono::milliseconds room_idle{60000};
  /// Nodes that keep each room's log, the home included (ADR 8).
  uint32_t replication = 2;
  /// A connection without a heartbeat for this long no longer counts as online.
  std::chrono::milliseconds presence_ttl{30000};
  /// Presence changes of one user within this window are published as one.
  std::chrono::milliseconds presence_coalesce{250};
  /// The store applies its retention policy this often (0: never).
  std::chrono::milliseconds trim_interval{60000};
};

/// Spawns the store actor (taking ownership of `db`) and the directory.
[[nodiscard]] node_handles spawn_node(caf::actor_system& sys, const node_options& opts,
                                      std::unique_ptr<storage::store> db);

/// Flushes the store and stops the node's actors; blocks until the store is flushed.
void stop_node(caf::actor_system& sys, const node_handles& node);

/// Spawns the connection actor of one client connection for `user`. Every frame
/// for the client goes into `out`.
[[nodiscard]] caf::actor spawn_connection(caf::actor_system& sys, const node_handles& node,
                                          std::string user, std::shared_ptr<outbox> out);

/// Lists the room's online members (users with a connection joined to the room
/// whose presence is online) and calls `done` with the JSON reply from an actor thread.
void room_presence(caf::actor_system& sys, const node_handles& node, std::string room,
                   std::function<void(std::string)> done);

/// Posts a message into `room` as `from` without a connection (server-side
/// publish); calls `done` with the `ack` frame, or an error frame, from an
/// actor thread. Idempotent on `id` like a client's send.
void publish(caf::actor_system& sys, const node_handles& node, std::string room,
             std::string from, std::string id, std::string body,
             std::function<void(frame)> done);

/// Reads a room's history off the actors' threads and calls `done` with the
/// `history` frame (or an error frame) from an actor thread.
void read_history(caf::actor_system& sys, const node_handles& node, msg::cmd_history cmd,
                  std::function<void(frame)> done);

/// The admin API's view of `room` (docs/protocol.md, "Admin API"), asked of its
/// home node: calls `done` with the JSON frame, or an error frame (not_found
/// for a room without a log), from an actor thread.
void inspect_room(caf::actor_system& sys, const node_handles& node, std::string room,
                  std::function<void(frame)> done);

/// Stops `room`'s actor on its home after its commit in flight (members stay:
/// their relays find it again): calls `done` with an `ok` frame, or an error
/// frame (not_found for a room without a log), from an actor thread.
void stop_room(caf::actor_system& sys, const node_handles& node, std::string room,
               std::function<void(frame)> done);

/// A page of the cluster's active rooms whose names start with `prefix`, by
/// name, after `cursor` (a room name; empty: from the start), at most `limit`:
/// calls `done` with `{"rooms":[{"room","home","seq","members"}],"next":...}`
/// (`next`: the cursor of the next page, null on the last) from an actor thread.
void list_rooms(caf::actor_system& sys, const node_handles& node, std::string prefix,
                std::string cursor, uint32_t limit, std::function<void(frame)> done);

/// Admin: every node up puts the rooms it stores back onto R copies among the
/// nodes up (after a member was lost); answers at once with the nodes asked,
/// `{"repairing":[...]}`, and each node logs its outcome when done.
void repair_rooms(caf::actor_system& sys, const node_handles& node,
                  std::function<void(frame)> done);

/// Admin: removes member `id`, gone for good (down, never to return): every
/// node up repairs the rooms it stores without it, then the membership log
/// removes it. Calls `done` with `{"removed":id,"rooms":N}` or an error frame
/// (not a member down; another member down; R = 1; a repair incomplete) from
/// an actor thread.
void remove_member(caf::actor_system& sys, const node_handles& node, std::string id,
                   std::function<void(frame)> done);

/// The admin API's node list (`{"self","view","nodes":[...]}`, docs/protocol.md)
/// as this node sees it: calls `done` with the frame from an actor thread.
void list_nodes(caf::actor_system& sys, const node_handles& node,
                std::function<void(frame)> done);

/// Tells the node where its gateway listens (its HTTP base URL), for the node
/// list; the gateway says it once it listens.
void announce_http(const node_handles& node, std::string url);

/// A page of the cluster's client connections (`user`, `node`: only those;
/// empty: all), ordered by node id, then by connection actor; `cursor` is the
/// `next` of the last page: calls `done` with
/// `{"connections":[{"id","user","node","transport","remote","rooms","queued_bytes","opened_at"}],"next":...}`
/// or an error frame from an actor thread.
void list_connections(caf::actor_system& sys, const node_handles& node, std::string user,
                      std::string on_node, std::string cursor, uint32_t limit,
                      std::function<void(frame)> done);

/// One connection (id "<node>:<number>", asked of that node) with its actor's
/// and session's state: `rate_tokens`, `last_heartbeat`, `watching`, `mailbox`
/// besides the list's fields; not_found when it is not open.
void inspect_connection(caf::actor_system& sys, const node_handles& node, std::string id,
                        std::function<void(frame)> done);

/// Closes a connection (a WebSocket with 4000 "closed by admin"; a stream
/// ends): `{"type":"ok"}`, or not_found.
void close_connection(caf::actor_system& sys, const node_handles& node, std::string id,
                      std::function<void(frame)> done);

/// The actors of node `on_node` (empty: this one) by kind, with their count
/// and largest mailbox, and its store's state:
/// `{"node","kinds":[{"kind","count","mailbox_max"}],"store":{...}}`.
void inspect_actors(caf::actor_system& sys, const node_handles& node, std::string on_node,
                    std::function<void(frame)> done);

/// A user's presence as its home node's shard holds it:
/// `{"user","status","last_seen","devices":[{"connection","node","last_heartbeat"}]}`.
void inspect_presence(caf::actor_system& sys, const node_handles& node, std::string user,
                      std::function<void(frame)> done);

} // namespace chat::actors
