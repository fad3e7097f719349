#include "chat/storage/store.hpp"

#include <sys/statvfs.h>

#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <filesystem>
#include <unordered_map>

namespace chat::storage {

namespace {

constexpr const char* cf_names[] = {"messages", "idem",     "rooms",
                                    "receipts", "presence", "staging"};
enum cf_index {
  cf_messages,
  cf_idem,
  cf_rooms,
  cf_receipts,
  cf_presence,
  cf_staging,
  cf_count
};

std::string room_prefix(const std::string& room) {
  std::string key;
  key.reserve(room.size() + 9);
  key += room;
  key += '\0';
  return key;
}

void append_be64(std::string& key, uint64_t x) {
  for (int shift = 56; shift >= 0; shift -= 8)
    key += static_cast<char>((x >> shift) & 0xff);
}

std::string message_key(const std::string& room, uint64_t seq) {
  auto key = room_prefix(room);
  append_be64(key, seq);
  return key;
}

std::string idem_key(const std::string& room, const std::string& id) {
  return room_prefix(room) + id;
}

uint64_t read_be64(const rocksdb::Slice& s) {
  uint64_t x = 0;
  for (size_t i = s.size() - 8; i < s.size(); ++i)
    x = (x << 8) | static_cast<unsigned char>(s[i]);
  return x;
}

status from(const rocksdb::Status& s) {
  return s.ok() ? status{} : status{s.ToString()};
}

// Reads one big-endian 64-bit value; nothing when the key is absent.
status get_u64(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, const std::string& key,
               std::optional<uint64_t>& out) {
  std::string value;
  auto s = db.Get(rocksdb::ReadOptions{}, cf, key, &value);
  out.reset();
  if (s.IsNotFound())
    return {};
  if (!s.ok())
    return from(s);
  if (value.size() == 8)
    out = read_be64(value);
  return {};
}

// Reads up to `limit` messages of `room` from seq `start` on, upwards or downwards.
status scan(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, const std::string& room,
            uint64_t start, bool forward, size_t limit, std::vector<message_record>& out) {
  auto prefix = room_prefix(room);
  std::unique_ptr<rocksdb::Iterator> it{db.NewIterator(rocksdb::ReadOptions{}, cf)};
  auto key = message_key(room, start);
  if (forward)
    it->Seek(key);
  else
    it->SeekForPrev(key);
  for (; it->Valid() && out.size() < limit; forward ? it->Next() : it->Prev()) {
    if (!it->key().starts_with(prefix))
      break;
    auto rec = decode_message(it->value().ToStringView());
    if (!rec)
      return {"room '" + room + "': unreadable message record"};
    out.emplace_back(std::move(*rec));
  }
  return from(it->status());
}

} // namespace

struct store::impl {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles; // all open families
  rocksdb::ColumnFamilyHandle* cf[cf_count] = {};
  rocksdb::WriteOptions write_opts;
  std::string path;
  uint64_t min_free_bytes = 0;
  retention_policy retention;
  /// Per room, the seq up to which trim() forgot the ids (memory only: after a
  /// restart the first sweeps walk the window's edge again, finding nothing).
  std::unordered_map<std::string, uint64_t> forgotten;
  /// Per room, the copy whose parts wait in cf_staging: its ballot, where it
  /// starts and where its staged parts end (memory only: after a restart a
  /// copy's next part is answered "start again from `from`").
  struct staged_copy {
    ballot by;
    uint64_t from = 0;
    uint64_t end = 0;
  };
  std::unordered_map<std::string, staged_copy> staging;
  /// The room a retention sweep that ran out of budget goes on from (empty:
  /// the first), so that a sweep over more rooms than its budget still
  /// reaches the last ones instead of starting over.
  std::string trim_cursor;

  // Why a write must not start now, or an empty string.
  std::string low_on_space() const {
    if (min_free_bytes == 0)
      return {};
    struct statvfs fs {};
    if (statvfs(path.c_str(), &fs) != 0)
      return {};
    auto free_bytes = static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize;
    if (free_bytes >= min_free_bytes)
      return {};
    return "the disk is almost full: " + std::to_string(free_bytes >> 20) + " MiB free in "
           + path + ", below the " + std::to_string(min_free_bytes >> 20)
           + " MiB kept free (--min-free-disk-mb)";
  }

  ~impl() {
    if (db) {
      for (auto* h : handles)
        db->DestroyColumnFamilyHandle(h);
      db->Close();
    }
  }
};

store::store(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

store::~store() = default;

std::unique_ptr<store> store::open(const open_options& opts, std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(opts.path, ec);
  if (ec) {
    error = "cannot create data directory '" + opts.path + "': " + ec.message();
    return nullptr;
  }
  rocksdb::Options db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.IncreaseParallelism(2);
  db_opts.keep_log_file_num = 4;

  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rocksdb::ColumnFamilyOptions cf_opts{db_opts};
  cf_opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  // Open every family that exists (a newer version may have added some) plus ours.
  std::vector<std::string> names;
  auto listed = rocksdb::DB::ListColumnFamilies(db_opts, opts.path, &names);
  if (!listed.ok())
    names = {rocksdb::kDefaultColumnFamilyName};
  for (auto* n : cf_names)
    if (std::find(names.begin(), names.end(), n) == names.end())
      names.emplace_back(n);
  std::vector<rocksdb::ColumnFamilyDescriptor> descs;
  for (auto& n : names)
    descs.emplace_back(n, cf_opts);

  auto p = std::make_unique<impl>();
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_opts, opts.path, descs, &p->handles, &raw);
  if (!s.ok()) {
    error = "cannot open data directory '" + opts.path + "': " + s.ToString();
    return nullptr;
  }
  p->db.reset(raw);
  for (size_t i = 0; i < names.size(); ++i)
    for (int j = 0; j < cf_count; ++j)
      if (names[i] == cf_names[j])
        p->cf[j] = p->handles[i];
  p->write_opts.sync = opts.sync;
  p->path = opts.path;
  p->min_free_bytes = opts.min_free_bytes;
  p->retention = opts.retention;
  return std::unique_ptr<store>{new store(std::move(p))};
}

namespace {

void put_receipts(rocksdb::WriteBatch& batch, rocksdb::ColumnFamilyHandle* cf,
                  const std::string& room,
                  const std::vector<std::pair<std::string, uint64_t>>& receipts) {
  for (auto& [user, seq] : receipts) {
    std::string seq_bytes;
    append_be64(seq_bytes, seq);
    batch.Put(cf, room_prefix(room) + user, seq_bytes);
  }
}

} // namespace

// Adds to `batch` the replacement of `room`'s log after `after`: the records
// beyond it and their ids go, `records` and theirs come, the meta is `meta`.
status store::add_rewrite(rocksdb::WriteBatch& batch, const std::string& room, uint64_t after,
                          const std::vector<message_record>& records, const room_meta& meta,
                          const std::vector<std::pair<std::string, uint64_t>>& receipts) {
  auto& d = *impl_;
  std::vector<message_record> tail;
  if (after != UINT64_MAX) {
    if (auto st = scan(*d.db, d.cf[cf_messages], room, after + 1, true, SIZE_MAX, tail); !st)
      return st;
  }
  for (auto& rec : tail) {
    batch.Delete(d.cf[cf_messages], message_key(room, rec.seq));
    batch.Delete(d.cf[cf_idem], idem_key(room, rec.id));
  }
  for (auto& rec : records) {
    std::string seq_bytes;
    append_be64(seq_bytes, rec.seq);
    batch.Put(d.cf[cf_messages], message_key(room, rec.seq), encode(rec));
    batch.Put(d.cf[cf_idem], idem_key(room, rec.id), seq_bytes);
  }
  batch.Put(d.cf[cf_rooms], room, encode(meta));
  put_receipts(batch, d.cf[cf_receipts], room, receipts);
  return {};
}

status store::commit(const write_group& group, std::vector<room_append_result>& results) {
  group_result all;
  auto s = commit(group, all);
  if (s)
    results = std::move(all.appends);
  return s;
}

status store::commit(const write_group& group, group_result& results) {
  auto& d = *impl_;
  if (auto why = d.low_on_space(); !why.empty())
    return status{why};
  auto& appends = group.appends;
  rocksdb::WriteBatch batch;
  std::vector<room_append_result> out(appends.size());
  std::vector<std::string> keys;
  std::vector<rocksdb::Slice> key_slices;
  std::vector<rocksdb::PinnableSlice> values;
  std::vector<rocksdb::Status> statuses;
  for (size_t a = 0; a < appends.size(); ++a) {
    auto& req = appends[a];
    auto& res = out[a];
    res.meta = req.meta;
    room_meta stored;
    if (auto st = load_room(req.room, stored); !st)
      return st;
    // A newer home promised here; or the log is not where this writer left it
    // (another writer under the same ballot, which unique ballots rule out,
    // would otherwise overwrite its seqs): the writer steps down.
    if (stored.promised > req.meta.promised || stored.seq != req.meta.seq) {
      res.fenced = true;
      res.meta = std::move(stored);
      continue;
    }
    res.meta.trimmed = stored.trimmed; // retention's, not the writer's
    auto n = req.entries.size();
    keys.clear();
    key_slices.clear();
    for (auto& e : req.entries)
      keys.emplace_back(idem_key(req.room, e.id));
    for (auto& k : keys)
      key_slices.emplace_back(k);
    values.clear();
    values.resize(n);
    statuses.resize(n);
    d.db->MultiGet(rocksdb::ReadOptions{}, d.cf[cf_idem], n, key_slices.data(), values.data(),
                   statuses.data());
    std::unordered_map<std::string_view, uint64_t> in_this_append;
    res.outcomes.resize(n);
    for (size_t i = 0; i < n; ++i) {
      auto& e = req.entries[i];
      if (statuses[i].ok() && values[i].size() == 8) {
        res.outcomes[i] = {read_be64(values[i]), true};
        continue;
      }
      if (!statuses[i].ok() && !statuses[i].IsNotFound())
        return from(statuses[i]);
      if (auto j = in_this_append.find(e.id); j != in_this_append.end()) {
        res.outcomes[i] = {j->second, true};
        continue;
      }
      message_record rec;
      rec.seq = ++res.meta.seq;
      res.meta.vc.tick(req.node);
      rec.id = e.id;
      rec.from = e.from;
      rec.ts = e.ts;
      rec.body = e.body;
      rec.vc = res.meta.vc;
      rec.ballot = res.meta.promised;
      res.meta.last = rec.ballot;
      std::string seq_bytes;
      append_be64(seq_bytes, rec.seq);
      batch.Put(d.cf[cf_messages], message_key(req.room, rec.seq), encode(rec));
      batch.Put(d.cf[cf_idem], keys[i], seq_bytes);
      in_this_append.emplace(e.id, rec.seq);
      res.outcomes[i] = {rec.seq, false};
      res.stored.emplace_back(std::move(rec));
    }
    if (!res.stored.empty())
      batch.Put(d.cf[cf_rooms], req.room, encode(res.meta));
  }
  for (auto& r : group.receipts) {
    std::string seq_bytes;
    append_be64(seq_bytes, r.seq);
    batch.Put(d.cf[cf_receipts], room_prefix(r.room) + r.user, seq_bytes);
  }
  for (auto& p : group.last_seen) {
    std::string ts_bytes;
    append_be64(ts_bytes, static_cast<uint64_t>(p.ts));
    batch.Put(d.cf[cf_presence], p.user, ts_bytes);
  }
  std::vector<promise_result> promised(group.promises.size());
  for (size_t i = 0; i < group.promises.size(); ++i) {
    auto& req = group.promises[i];
    auto& res = promised[i];
    if (auto st = load_room(req.room, res.meta); !st)
      return st;
    bool changed = false;
    if (req.ballot > res.meta.promised) {
      res.meta.promised = req.ballot;
      changed = true;
    }
    res.ok = res.meta.promised == req.ballot;
    if (req.accept && res.ok && res.meta.accepted != req.ballot) {
      res.meta.accepted = req.ballot;
      changed = true;
    }
    if (changed)
      batch.Put(d.cf[cf_rooms], req.room, encode(res.meta));
  }
  std::vector<rewrite_result> rewritten(group.rewrites.size());
  // Staging changes take effect once the batch is written.
  std::vector<std::pair<std::string, std::optional<impl::staged_copy>>> staged;
  auto drop_staged = [&](const std::string& room) {
    auto lo = room_prefix(room);
    auto hi = room;
    hi += '\x01';
    batch.DeleteRange(d.cf[cf_staging], lo, hi);
  };
  for (size_t i = 0; i < group.rewrites.size(); ++i) {
    auto& req = group.rewrites[i];
    auto& res = rewritten[i];
    room_meta current;
    if (auto st = load_room(req.room, current); !st)
      return st;
    // A newer home promised here, or a newer writer's log is here (a copy
    // labelled with an older writer would hide it).
    if (current.promised > req.meta.promised || current.accepted > req.meta.accepted) {
      res.fenced = true;
      continue;
    }
    // The log is the sender's up to `after` only if the same writer wrote both
    // (each is a prefix of that writer's log); else only up to the commit
    // point, which every home's log shares.
    auto shared = current.accepted == req.meta.accepted ? current.seq : current.commit;
    auto from = req.from.value_or(req.after);
    if (from > shared) {
      res.seq = shared;
      continue;
    }
    std::vector<message_record> records;
    if (from != req.after || !req.last) {
      // A part of a copy in parts.
      auto known = d.staging.find(req.room);
      if (req.after == from) {
        drop_staged(req.room); // a new copy: whatever an older one left goes
      } else if (known == d.staging.end() || known->second.by != req.meta.promised
                 || known->second.from != from || known->second.end != req.after) {
        res.seq = from; // not the copy staged here (a restart, a lost part): again from `from`
        continue;
      }
      if (!req.last) {
        for (auto& rec : req.records)
          batch.Put(d.cf[cf_staging], message_key(req.room, rec.seq), encode(rec));
        auto end = req.records.empty() ? req.after : req.records.back().seq;
        staged.emplace_back(req.room, impl::staged_copy{req.meta.promised, from, end});
        res.seq = end;
        continue;
      }
      // The last part: the staged ones and it replace the log after `from`.
      if (auto st = scan(*d.db, d.cf[cf_staging], req.room, from + 1, true, SIZE_MAX, records);
          !st)
        return st;
      while (!records.empty() && records.back().seq > req.after)
        records.pop_back();
      drop_staged(req.room);
      staged.emplace_back(req.room, std::nullopt);
    }
    records.insert(records.end(), req.records.begin(), req.records.end());
    // What retention removed here stays removed (with its ids), whatever the
    // copy brings; and the ids the copy writes are walked by the next sweep.
    records.erase(std::remove_if(records.begin(), records.end(),
                                 [&](const message_record& r) {
                                   return r.seq <= current.trimmed;
                                 }),
                  records.end());
    if (auto f = d.forgotten.find(req.room); f != d.forgotten.end())
      f->second = std::min(f->second, from);
    auto meta = req.meta;
    meta.trimmed = current.trimmed; // what retention removed here
    // A part of a copy is labelled with the log's own writer, the last append
    // of a home with its ballot; never with one newer than the promise.
    meta.accepted = std::min(meta.accepted, meta.promised);
    meta.commit = std::max(std::min(current.commit, meta.seq), meta.commit);
    if (auto st = add_rewrite(batch, req.room, from, records, meta, req.receipts); !st)
      return st;
    res.seq = meta.seq;
  }
  if (batch.Count() > 0)
    if (auto s = d.db->Write(d.write_opts, &batch); !s.ok())
      return from(s);
  for (auto& [room, copy] : staged) {
    if (copy)
      d.staging[room] = *copy;
    else
      d.staging.erase(room);
  }
  results.appends = std::move(out);
  results.rewrites = std::move(rewritten);
  results.promises = std::move(promised);
  return {};
}

status store::load_room(const std::string& room, room_meta& out) {
  std::string value;
  auto s = impl_->db->Get(rocksdb::ReadOptions{}, impl_->cf[cf_rooms], room, &value);
  if (s.IsNotFound()) {
    out = room_meta{};
    return {};
  }
  if (!s.ok())
    return from(s);
  auto meta = decode_room_meta(value);
  if (!meta)
    return {"room '" + room + "': unreadable metadata record"};
  out = std::move(*meta);
  return {};
}

status store::read_after(const std::string& room, uint64_t after, size_t limit,
                         std::vector<message_record>& out) {
  out.clear();
  if (after == UINT64_MAX)
    return {};
  return scan(*impl_->db, impl_->cf[cf_messages], room, after + 1, true, limit, out);
}

status store::read_before(const std::string& room, uint64_t before, size_t limit,
                          std::vector<message_record>& out) {
  out.clear();
  if (before == 0)
    return {};
  return scan(*impl_->db, impl_->cf[cf_messages], room, before - 1, false, limit, out);
}

status store::load_receipts(const std::string& room,
                            std::vector<std::pair<std::string, uint64_t>>& out) {
  out.clear();
  auto prefix = room_prefix(room);
  std::unique_ptr<rocksdb::Iterator> it{
    impl_->db->NewIterator(rocksdb::ReadOptions{}, impl_->cf[cf_receipts])};
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    if (it->value().size() != 8)
      return {"room '" + room + "': unreadable receipt"};
    auto user = it->key();
    user.remove_prefix(prefix.size());
    out.emplace_back(user.ToString(), read_be64(it->value()));
  }
  return from(it->status());
}

status store::load_last_seen(const std::string& user, std::optional<int64_t>& out) {
  std::optional<uint64_t> raw;
  auto s = get_u64(*impl_->db, impl_->cf[cf_presence], user, raw);
  out.reset();
  if (raw)
    out = static_cast<int64_t>(*raw);
  return s;
}

status store::find_id(const std::string& room, const std::string& id,
                      std::optional<uint64_t>& out) {
  return get_u64(*impl_->db, impl_->cf[cf_idem], idem_key(room, id), out);
}

status store::list_rooms(std::vector<std::string>& out) {
  out.clear();
  std::unique_ptr<rocksdb::Iterator> it{
    impl_->db->NewIterator(rocksdb::ReadOptions{}, impl_->cf[cf_rooms])};
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    // A node that only promised a ballot for a room (ADR 8) holds no log of it.
    auto meta = decode_room_meta(it->value().ToStringView());
    if (!meta || meta->seq > 0)
      out.emplace_back(it->key().ToString());
  }
  return from(it->status());
}

status store::rewrite_room(const std::string& room, uint64_t after,
                           const std::vector<message_record>& records, const room_meta& meta,
                           const std::vector<std::pair<std::string, uint64_t>>& receipts) {
  rocksdb::WriteBatch batch;
  if (auto st = add_rewrite(batch, room, after, records, meta, receipts); !st)
    return st;
  return from(impl_->db->Write(impl_->write_opts, &batch));
}

// Deletes `rec`'s id key if it still names `rec` (a forgotten id sent again
// is a new message, whose key must stay).
status forget_id(rocksdb::DB& db, rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatch& batch,
                 const std::string& room, const message_record& rec,
                 uint64_t* forgotten = nullptr) {
  auto key = idem_key(room, rec.id);
  std::string value;
  auto s = db.Get(rocksdb::ReadOptions{}, cf, key, &value);
  if (s.IsNotFound())
    return {};
  if (!s.ok())
    return from(s);
  if (value.size() == 8 && read_be64(value) == rec.seq) {
    batch.Delete(cf, key);
    if (forgotten)
      ++*forgotten;
  }
  return {};
}

status store::trim(int64_t now_ms, size_t budget, trim_stats& out) {
  auto& d = *impl_;
  if (auto why = d.low_on_space(); !why.empty())
    return status{why};
  auto& p = d.retention;
  rocksdb::WriteBatch batch;
  size_t examined = 0;
  std::unique_ptr<rocksdb::Iterator> rooms{
    d.db->NewIterator(rocksdb::ReadOptions{}, d.cf[cf_rooms])};
  for (rooms->Seek(d.trim_cursor); rooms->Valid() && !out.more; rooms->Next()) {
    auto meta = decode_room_meta(rooms->value().ToStringView());
    if (!meta || meta->seq == 0)
      continue;
    auto room = rooms->key().ToString();
    auto prefix = room_prefix(room);
    // In a cluster (a log written under ballots) counted from the commit
    // point, not from `seq`: a home's stored seq may include a batch not acked
    // yet, which a take-over can still discard. A single node acks what it stores.
    auto last = meta->promised.n == 0 ? meta->seq : std::min(meta->commit, meta->seq);
    auto removable = [&](const message_record& r) {
      return r.seq <= last
             && ((p.keep_messages > 0 && r.seq + p.keep_messages <= last)
                 || (p.keep_ms > 0 && r.ts + p.keep_ms < now_ms));
    };
    auto forgettable = [&](const message_record& r) {
      return r.seq + p.dedupe_ids <= meta->seq && r.ts + p.dedupe_ms < now_ms;
    };
    auto& forgotten = d.forgotten[room];
    auto trimmed = meta->trimmed;
    // Oldest first: retention removes a prefix of the log, the dedupe window
    // forgets the ids of the prefix after it.
    std::unique_ptr<rocksdb::Iterator> it{
      d.db->NewIterator(rocksdb::ReadOptions{}, d.cf[cf_messages])};
    bool removing = true;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (examined++ == budget) {
        out.more = true;
        d.trim_cursor = room; // the next sweep goes on here
        break;
      }
      auto rec = decode_message(it->value().ToStringView());
      if (!rec)
        return {"room '" + room + "': unreadable message record"};
      if (removing && removable(*rec)) {
        batch.Delete(d.cf[cf_messages], it->key());
        if (auto st = forget_id(*d.db, d.cf[cf_idem], batch, room, *rec); !st)
          return st;
        forgotten = std::max(forgotten, rec->seq);
        trimmed = std::max(trimmed, rec->seq);
        ++out.removed;
        continue;
      }
      if (removing) {
        removing = false;
        if (rec->seq <= forgotten) { // already walked: skip to the window's edge
          it->Seek(message_key(room, forgotten + 1));
          if (!it->Valid() || !it->key().starts_with(prefix))
            break;
          rec = decode_message(it->value().ToStringView());
          if (!rec)
            return {"room '" + room + "': unreadable message record"};
        }
      }
      if (!forgettable(*rec))
        break;
      if (auto st = forget_id(*d.db, d.cf[cf_idem], batch, room, *rec, &out.forgotten); !st)
        return st;
      forgotten = rec->seq;
    }
    if (auto st = from(it->status()); !st)
      return st;
    if (trimmed != meta->trimmed) {
      meta->trimmed = trimmed;
      batch.Put(d.cf[cf_rooms], room, encode(*meta));
      out.rooms.emplace_back(room, trimmed);
    }
  }
  if (!out.more)
    d.trim_cursor.clear(); // every room seen: the next sweep starts at the first
  if (batch.Count() == 0)
    return from(rooms->status());
  // Not synced: a trim lost to a crash is done again by the next sweep.
  return from(d.db->Write(rocksdb::WriteOptions{}, &batch));
}

std::string store::stats_report() {
  std::string out;
  impl_->db->GetProperty(rocksdb::DB::Properties::kStats, &out);
  return out;
}

std::optional<uint64_t> store::int_property(const std::string& name) {
  uint64_t sum = 0;
  for (auto* h : impl_->handles) {
    uint64_t v = 0;
    if (!impl_->db->GetIntProperty(h, name, &v))
      return std::nullopt;
    sum += v;
  }
  return sum;
}

status store::flush() {
  rocksdb::FlushOptions fo;
  for (int i = 0; i < cf_count; ++i)
    if (auto s = impl_->db->Flush(fo, impl_->cf[i]); !s.ok())
      return from(s);
  return {};
}

status store::resume() {
  if (auto why = impl_->low_on_space(); !why.empty())
    return status{why};
  return from(impl_->db->Resume());
}

} // namespace chat::storage
