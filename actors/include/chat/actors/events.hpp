#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "chat/actors/frame.hpp"
#include "chat/storage/records.hpp"

namespace chat::actors {

/// Builds one JSON object straight into a frame buffer (no DOM, one allocation).
/// Values that are already JSON (a message body, a `ref`) are copied verbatim.
class json_writer {
public:
  json_writer();

  json_writer& key(std::string_view k);
  json_writer& str(std::string_view v);
  json_writer& num(uint64_t v);
  json_writer& num(int64_t v);
  json_writer& boolean(bool v);
  /// Copies `json` verbatim: a value, or (inside an array or object just
  /// begun) elements already written as JSON.
  json_writer& raw(std::string_view json);
  json_writer& begin_object();
  json_writer& end_object();
  json_writer& begin_array();
  json_writer& end_array();

  /// Adds `"ref":<ref>` unless `ref` is empty (the command carried none).
  json_writer& ref(std::string_view ref);

  /// Ends the top-level object and returns the shared frame.
  [[nodiscard]] frame finish();

private:
  void comma();
  std::string buf_;
  bool need_comma_ = false;
};

/// Appends `s` to `out` as a JSON string literal.
void append_json_string(std::string& out, std::string_view s);

// -- server -> client events (PROTOCOL.md "Server -> client events") ----------

[[nodiscard]] frame message_event(std::string_view room, const storage::message_record& m);
void write_message_object(json_writer& w, std::string_view room,
                          const storage::message_record& m);
[[nodiscard]] frame ack_event(std::string_view ref, std::string_view room, std::string_view id,
                              uint64_t seq, bool dup);
/// `members`: the members' names already encoded as JSON strings separated by
/// commas; `receipts`: the `"user":seq` pairs of those that have one, likewise
/// (a room keeps both as text, see room_roster).
[[nodiscard]] frame joined_event(std::string_view ref, std::string_view room, uint64_t seq,
                                 std::string_view members, std::string_view receipts);
[[nodiscard]] frame read_event(std::string_view room, std::string_view user, uint64_t seq);
/// A replay reached back past what retention keeps: it goes on from `first_seq`.
[[nodiscard]] frame trimmed_event(std::string_view room, uint64_t first_seq);
[[nodiscard]] frame signal_event(std::string_view room, std::string_view from,
                                 std::string_view data);
[[nodiscard]] frame presence_event(std::string_view user, bool online, int64_t last_seen);
/// `users` holds (user, online, last_seen).
[[nodiscard]] frame
presence_state_event(std::string_view ref,
                     const std::vector<std::tuple<std::string, bool, int64_t>>& users);
[[nodiscard]] frame member_event(std::string_view room, std::string_view user,
                                 std::string_view event);
/// A big room's coalesced membership changes (docs/protocol.md).
[[nodiscard]] frame members_event(std::string_view room,
                                  const std::vector<std::string_view>& joined,
                                  const std::vector<std::string_view>& left);
[[nodiscard]] frame typing_event(std::string_view room, std::string_view user);
[[nodiscard]] frame history_event(std::string_view ref, std::string_view room,
                                  const std::vector<storage::message_record>& msgs);
[[nodiscard]] frame ok_event(std::string_view ref);
[[nodiscard]] frame pong_event(std::string_view ref);
/// An error frame; it carries `code` as a value too (frame::error()).
[[nodiscard]] frame error_event(std::string_view ref, wire_error code,
                                std::string_view message);
/// The same with a `retry_after_ms` field (additive): when to try again.
[[nodiscard]] frame error_event(std::string_view ref, wire_error code, std::string_view message,
                                int64_t retry_after_ms);

} // namespace chat::actors
