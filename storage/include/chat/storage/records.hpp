#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "chat/runtime/vector_clock.hpp"

namespace chat::storage {

/// Bumped when a record gains or changes fields; readers refuse records whose
/// compat version is newer than theirs.
/// Version 2 appended the ballots (records) and the replication fields (meta);
/// a version-1 reader ignores them, so compat stays 1.
inline constexpr uint16_t format_version = 3;
inline constexpr uint16_t compat_version = 1;

/// The epoch under which a room's home writes (ADR 8): a counter with the home's
/// node id as tie-breaker, so two nodes never hold the same ballot. Ordered.
struct ballot {
  uint64_t n = 0;
  std::string node;
  friend bool operator<(const ballot& a, const ballot& b) {
    return std::tie(a.n, a.node) < std::tie(b.n, b.node);
  }
  friend bool operator>(const ballot& a, const ballot& b) { return b < a; }
  friend bool operator==(const ballot& a, const ballot& b) {
    return a.n == b.n && a.node == b.node;
  }
  friend bool operator!=(const ballot& a, const ballot& b) { return !(a == b); }
};

/// One stored room message, as the log keeps it.
struct message_record {
  uint64_t seq = 0;
  std::string id;   ///< the client's idempotency key
  std::string from; ///< sender's user id
  int64_t ts = 0;   ///< server time of acceptance, ms since the epoch
  std::string body; ///< the message body as compact JSON text
  runtime::vector_clock vc;
  storage::ballot ballot; ///< the home's ballot when it wrote the record
};

/// Where a room's log stands.
struct room_meta {
  uint64_t seq = 0; ///< last assigned seq (0 = empty room)
  runtime::vector_clock vc;
  ballot last;          ///< the ballot of the record at `seq`
  ballot promised;      ///< no write under an older ballot is accepted here
  ballot accepted;      ///< the ballot whose home last wrote this log
  uint64_t commit = 0;  ///< every record up to here is on every replica
  uint64_t trimmed = 0; ///< every record up to here was removed by retention (this node's)
};

/// Which of two nodes' logs a take-over adopts (ADR 8; Viewstamped Replication's
/// view change): the one written under the newer ballot (`accepted`), then the
/// longer. Not by the ballot of the last record (`last`): a log that a newer home
/// adopted keeps its records' old ballots, so an older home's unacked tail would
/// win and replace acknowledged records.
[[nodiscard]] inline bool newer_log(const room_meta& a, const room_meta& b) {
  return a.accepted > b.accepted || (a.accepted == b.accepted && a.seq > b.seq);
}

[[nodiscard]] std::string encode(const message_record& x);
[[nodiscard]] std::string encode(const room_meta& x);
[[nodiscard]] std::optional<message_record> decode_message(std::string_view bytes);
[[nodiscard]] std::optional<room_meta> decode_room_meta(std::string_view bytes);

} // namespace chat::storage
