#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "chat/runtime/vector_clock.hpp"

namespace chat::storage {

/// Bumped when a record gains or changes fields; readers refuse records whose
/// compat version is newer than theirs.
inline constexpr uint16_t format_version = 1;
inline constexpr uint16_t compat_version = 1;

/// One stored room message, as the log keeps it.
struct message_record {
  uint64_t seq = 0;
  std::string id;   ///< the client's idempotency key
  std::string from; ///< sender's user id
  int64_t ts = 0;   ///< server time of acceptance, ms since the epoch
  std::string body; ///< the message body as compact JSON text
  runtime::vector_clock vc;
};

/// Where a room's log stands.
struct room_meta {
  uint64_t seq = 0; ///< last assigned seq (0 = empty room)
  runtime::vector_clock vc;
};

[[nodiscard]] std::string encode(const message_record& x);
[[nodiscard]] std::string encode(const room_meta& x);
[[nodiscard]] std::optional<message_record> decode_message(std::string_view bytes);
[[nodiscard]] std::optional<room_meta> decode_room_meta(std::string_view bytes);

} // namespace chat::storage
