#pragma once

#include <cstdint>
#include <vector>

#include "chat/actors/frame.hpp"
#include "chat/actors/wire.hpp"
#include "directory_messages.hpp"
#include "presence_messages.hpp"
#include "room_messages.hpp"

// Messages between the actors of a node and across nodes, one file per
// interface: room_messages.hpp (rooms and relays), presence_messages.hpp,
// directory_messages.hpp. Types that cross nodes have a wire name and an
// `inspect` there, are listed in `node_types` below and registered from that
// list by `register_types`; cluster_test round-trips each through CAF's
// serializer. Types that never leave a node (they carry outboxes) are
// registered as local-only ("unsafe") in their files.

namespace chat::msg {

// caf::actor_id is uint64_t: one registration serves relay_unicast's ids and
// the receipts' seqs.
CHAT_WIRE_NAME(std::vector<uint64_t>, "std::vector<uint64_t>")

/// Every type that crosses nodes besides the client commands (actor_commands):
/// register_types registers these, under their wire names, and nothing else.
using node_types =
  type_list<actors::frame, room_join, room_joined, room_leave, room_post, post_result,
            room_typing, room_fetch, seq_frame, relay_msg, relay_event, relay_unicast,
            resolve_room, find_room, inspect_room, stop_room, list_rooms, room_list,
            node_summary, room_summary, resolve_user, read_history, room_read, room_signal,
            presence_heartbeat, presence_disconnect, presence_watch, presence_unwatch,
            presence_query, presence_info, presence_event, room_import, room_pull, room_prepare,
            room_promise, room_replicate, seq_frames, std::vector<uint64_t>, room_actor,
            presence_shard_actor>;

} // namespace chat::msg
