#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/storage/records.hpp"

namespace rocksdb {
class WriteBatch;
} // namespace rocksdb

namespace chat::storage {

/// The result of a storage call: ok, or a one-line reason. RocksDB's own
/// status never leaves this module.
struct [[nodiscard]] status {
  std::string error; ///< empty = ok
  [[nodiscard]] bool ok() const noexcept { return error.empty(); }
  explicit operator bool() const noexcept { return ok(); }
};

/// How long a room keeps its client ids and its messages (docs/protocol.md,
/// "Retention and the dedupe window"). Every node applies the same rule to its
/// copy, so replicas agree on what is kept.
struct retention_policy {
  /// A client id is remembered (a resend is acked `dup`) while its message is
  /// among the room's last `dedupe_ids` or younger than `dedupe_ms`, whichever
  /// is longer, and while the message itself is kept.
  uint64_t dedupe_ids = 10000;
  int64_t dedupe_ms = int64_t{24} * 3600 * 1000;
  /// A message is removed, with its id, once it is no longer among the room's
  /// last `keep_messages` (0: no limit) or is older than `keep_ms` (0: no limit).
  uint64_t keep_messages = 0;
  int64_t keep_ms = 0;
};

/// What one trim() did.
struct trim_stats {
  uint64_t removed = 0;   ///< messages (and their ids) deleted by retention
  uint64_t forgotten = 0; ///< ids past the dedupe window (their messages stay)
  bool more = false;      ///< the budget ran out: call again
  /// Rooms whose messages up to a seq are now gone: their `trimmed` mark.
  std::vector<std::pair<std::string, uint64_t>> rooms;
};

struct open_options {
  /// Directory of the RocksDB instance; created if missing.
  std::string path;
  /// fsync the WAL on every commit (group). Default: true.
  bool sync = true;
  /// Commits are refused (nothing written) while the file system holding
  /// `path` has less free space than this, so that RocksDB never meets a full
  /// disk (its write path asserts after a failed WAL write). 0: no check.
  uint64_t min_free_bytes = 0;
  retention_policy retention{};
};

/// One message to append, before it has a seq.
struct append_entry {
  std::string id;
  std::string from;
  int64_t ts = 0;
  std::string body;
};

/// The appends of one room in a write group. `meta` is where the room's log
/// stands (as its room actor knows it); `node` ticks the vector clock.
struct room_append {
  std::string room;
  std::string node;
  room_meta meta;
  std::vector<append_entry> entries;
};

/// What became of each entry of a room_append, in the same order.
struct append_outcome {
  uint64_t seq = 0;
  bool dup = false; ///< the id was stored before (or earlier in the same append)
};

struct room_append_result {
  /// The room's stored `promised` ballot is newer than the append's: another
  /// home took the room over; nothing of this append was written.
  bool fenced = false;
  std::vector<append_outcome> outcomes;
  std::vector<message_record> stored; ///< the new records, in seq order
  room_meta meta;                     ///< where the log stands afterwards
};

/// A member's read position in a room (only ever moves forward; the room actor,
/// the only writer of its room, enforces that).
struct receipt_update {
  std::string room;
  std::string user;
  uint64_t seq = 0;
};

/// When a user was last seen online (ms since the epoch).
struct last_seen_update {
  std::string user;
  int64_t ts = 0;
};

/// A replica taking part of its home's log (ADR 8): the part after `after`
/// becomes `records`, the meta becomes `meta` (whose `promised` is the sender's
/// ballot, and `accepted` the writer of the log the records come from: the
/// sender's ballot only for its own appends and once a copy is whole). Checked
/// against the stored meta when it is committed.
struct room_rewrite {
  std::string room;
  uint64_t after = 0;
  std::vector<message_record> records;
  room_meta meta;
  std::vector<std::pair<std::string, uint64_t>> receipts;
  /// A copy in parts (a take-over's adoption or sync) starts after `from`
  /// (none: `after`, a copy in one part or an append). Only its `last` part
  /// changes the log, with every part at once; earlier parts wait in a staging
  /// area, so a copy that stops midway leaves the log as it was (ADR 8).
  std::optional<uint64_t> from{};
  bool last = true;
};

struct rewrite_result {
  /// The stored `promised` is newer than the sender's ballot, or the stored log
  /// was written by a newer writer than the records': nothing written.
  bool fenced = false;
  /// The log's last seq afterwards; when less than the part's end, the log was
  /// behind (the part did not follow on) and nothing was written: resend from here.
  uint64_t seq = 0;
};

/// A room's home-to-be asks for a promise (ADR 8): no write under an older
/// ballot than `ballot` is accepted here afterwards.
struct room_promise_request {
  std::string room;
  storage::ballot ballot;
  /// Also record that `ballot` wrote the log as it stands (`accepted`), if the
  /// promise holds: a new home keeping its own log. No record is touched.
  bool accept = false;
};

struct promise_result {
  bool ok = false; ///< promised `ballot` (not a newer one)
  room_meta meta;  ///< the room's meta afterwards
};

/// Everything one group commit writes: one WriteBatch, one fsync. At most one
/// operation per room (the caller flushes before a second one).
struct write_group {
  std::vector<room_append> appends;
  std::vector<receipt_update> receipts;
  std::vector<last_seen_update> last_seen;
  std::vector<room_rewrite> rewrites;
  std::vector<room_promise_request> promises;

  [[nodiscard]] bool empty() const {
    return appends.empty() && receipts.empty() && last_seen.empty() && rewrites.empty()
           && promises.empty();
  }
};

/// What became of a write group's operations, each list in the group's order.
struct group_result {
  std::vector<room_append_result> appends;
  std::vector<rewrite_result> rewrites;
  std::vector<promise_result> promises;
};

/// A node's RocksDB instance. Not thread-safe for writers: one caller (the store
/// actor) owns it; reads may come from the same caller.
class store {
public:
  ~store();
  store(const store&) = delete;
  store& operator=(const store&) = delete;

  /// Opens (creating if needed) the database at `opts.path`.
  [[nodiscard]] static std::unique_ptr<store> open(const open_options& opts,
                                                   std::string& error);

  /// Commits a write group in ONE WriteBatch. An append whose `meta.promised` is
  /// older than the stored one is fenced (nothing written). For the others: each entry whose
  /// id the room already stored becomes a dup with the original seq; every other
  /// entry gets the next gap-free seq, a vector-clock tick, and its id -> seq key
  /// in the same batch (`results` has one element per append). Nothing changes on
  /// failure.
  status commit(const write_group& group, group_result& results);
  /// The same, for a group of appends only.
  status commit(const write_group& group, std::vector<room_append_result>& results);

  /// Every stored read receipt of `room`, as (user, seq).
  status load_receipts(const std::string& room,
                       std::vector<std::pair<std::string, uint64_t>>& out);

  /// When `user` was last seen online; nothing if never.
  status load_last_seen(const std::string& user, std::optional<int64_t>& out);

  /// Where `room`'s log stands; a room never written has seq 0.
  status load_room(const std::string& room, room_meta& out);

  /// Up to `limit` messages with seq > `after`, oldest first.
  status read_after(const std::string& room, uint64_t after, size_t limit,
                    std::vector<message_record>& out);

  /// Up to `limit` messages with seq < `before`, newest first.
  status read_before(const std::string& room, uint64_t before, size_t limit,
                     std::vector<message_record>& out);

  /// The seq stored for a client id in `room`, if any.
  status find_id(const std::string& room, const std::string& id, std::optional<uint64_t>& out);

  /// Every room with a stored log (for a handover); not rooms with a meta only.
  status list_rooms(std::vector<std::string>& out);

  /// Replaces the part of `room`'s log after `after` by `records` (seqs after+1..,
  /// gap-free): the records beyond `after` and their id keys are deleted, the new
  /// ones and theirs written, `meta` stored as it is, and `receipts` (if any)
  /// written, all in one WriteBatch. With no records and `after` at the last seq
  /// it only stores the meta. This is how a replica takes its home's log (ADR 8).
  status rewrite_room(const std::string& room, uint64_t after,
                      const std::vector<message_record>& records, const room_meta& meta,
                      const std::vector<std::pair<std::string, uint64_t>>& receipts = {});

  /// Applies the retention policy to every room, oldest records first, looking
  /// at no more than `budget` records (so a sweep never holds up the writes
  /// queued behind it; `out.more` says there is more to do). `now_ms`: ms since
  /// the epoch, compared with the records' `ts`.
  status trim(int64_t now_ms, size_t budget, trim_stats& out);

  /// RocksDB's `rocksdb.stats` report (compaction, stalls, WAL; the admin API).
  [[nodiscard]] std::string stats_report();
  /// An integer property of RocksDB (e.g. "rocksdb.estimate-num-keys") summed
  /// over the column families; nothing when RocksDB does not know it.
  [[nodiscard]] std::optional<uint64_t> int_property(const std::string& name);

  /// Flushes memtables to disk (used at shutdown, so a restart replays no WAL).
  status flush();

  /// After a failed write (a full disk): lets RocksDB write again once the cause
  /// is gone (free space above `min_free_bytes`, then `DB::Resume`); fails while
  /// it is not.
  status resume();

private:
  status add_rewrite(rocksdb::WriteBatch& batch, const std::string& room, uint64_t after,
                     const std::vector<message_record>& records, const room_meta& meta,
                     const std::vector<std::pair<std::string, uint64_t>>& receipts);

  struct impl;
  explicit store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace chat::storage
