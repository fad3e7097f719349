#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "chat/actors/frame.hpp"

namespace chat::actors {

/// The users in a room (with their number of joined connections) and what the
/// room says about them: `member` events, and the `members` and `receipts` of
/// every `joined` reply.
///
/// Both are built so that a join costs the same in a room of 3,000 as in a room
/// of 3: the `joined` lists are kept as JSON text that a join appends to (a
/// leave or a moved receipt rebuilds them once, at the next join), and in a
/// room of more than `coalesce_above` users the changes are not sent as one
/// `member` event each to every member (n joins made n² frames), but as one
/// `members` event per `coalesce_interval` with the users who came and went
/// (docs/protocol.md).
class room_roster {
public:
  static constexpr size_t coalesce_above = 100;
  static constexpr std::chrono::milliseconds coalesce_interval{1000};

  using receipt_map = std::unordered_map<std::string, uint64_t>;

  /// A connection of `user` joined. Returns the frame to broadcast now, if any;
  /// `schedule_flush` is set when coalesced changes wait for `flush`.
  std::optional<frame> add(std::string_view room, const std::string& user,
                           bool& schedule_flush);

  /// A connection of `user` left; like `add`.
  std::optional<frame> remove(std::string_view room, const std::string& user,
                              bool& schedule_flush);

  /// The coalesced `members` event of the changes since the last flush
  /// (nothing when they cancel out).
  std::optional<frame> flush(std::string_view room);

  /// The `joined` reply for a member of this room.
  [[nodiscard]] frame joined(std::string_view ref, std::string_view room, uint64_t seq,
                             const receipt_map& receipts);

  /// A member's receipt moved: the receipts list (only) is rebuilt at the next join.
  void receipts_changed() { receipts_dirty_ = true; }

  [[nodiscard]] const std::unordered_map<std::string, size_t>& users() const { return users_; }

private:
  std::optional<frame> changed(std::string_view room, const std::string& user, bool joined,
                               bool& schedule_flush);

  std::unordered_map<std::string, size_t> users_; ///< connections per user
  /// Users added since `lists_` was built; `dirty_`: rebuild it whole.
  std::vector<std::string> appended_;
  bool dirty_ = true;          ///< rebuild both lists
  bool receipts_dirty_ = true; ///< rebuild the receipts list
  std::string members_;        ///< the members' names, JSON strings separated by commas
  std::string receipts_;       ///< "user":seq pairs separated by commas
  /// Coalesced changes (only big rooms have them: every byte here is paid by
  /// every room): user -> whether it was in the room before them.
  struct coalesced {
    std::unordered_map<std::string, bool> changes;
    bool flush_scheduled = false;
  };
  std::unique_ptr<coalesced> big_;
};

} // namespace chat::actors
