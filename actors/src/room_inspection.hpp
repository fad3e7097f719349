#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chat/actors/frame.hpp"
#include "chat/storage/records.hpp"

namespace chat::actors {

/// What the admin API shows of a room (docs/protocol.md, "Admin API"), gathered
/// by its actor when it is active, else by its home's directory from the store.
struct room_view {
  std::string room;
  std::string home;                  ///< the node id of its home
  std::vector<std::string> replicas; ///< the other nodes that keep its log
  bool active = false;               ///< its actor runs (members, mailbox)
  storage::room_meta meta;
  struct member {
    std::string user;
    std::string node;
    std::string connection; ///< "<node>:<actor id>"
  };
  std::vector<member> members;
  size_t mailbox = 0;
  std::vector<frame> recent; ///< the newest message frames, oldest first
};

/// The admin API's JSON of a room: {"room","home","replicas","epoch","seq","vc",
/// "members","mailbox","recent", "active","commit","trimmed"}.
[[nodiscard]] frame room_view_frame(const room_view& v);

/// How many recent messages the view shows.
constexpr uint32_t room_view_recent = 20;

} // namespace chat::actors
