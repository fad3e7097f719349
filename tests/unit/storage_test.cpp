#include <doctest/doctest.h>

#include <fstream>

#include "chat/storage/store.hpp"
#include "temp_dir.hpp"

using namespace chat::storage;

namespace {

std::unique_ptr<store> open_at(const std::string& path) {
  std::string err;
  auto db = store::open({path, true}, err);
  REQUIRE_MESSAGE(db, err);
  return db;
}

room_append make_append(const std::string& room, const room_meta& meta,
                        std::vector<std::string> ids) {
  room_append req{room, "n1", meta, {}};
  for (auto& id : ids)
    req.entries.push_back({id, "alice", 1000, "{\"text\":\"" + id + "\"}"});
  return req;
}

room_append_result append_one(store& db, room_append req) {
  std::vector<room_append_result> out;
  write_group g;
  g.appends.push_back(std::move(req));
  auto s = db.commit(g, out);
  REQUIRE_MESSAGE(s.ok(), s.error);
  REQUIRE(out.size() == 1);
  return out[0];
}

} // namespace

TEST_CASE("records round-trip through the versioned envelope") {
  message_record m{7, "c-1", "alice", 123, "{\"a\":1}", {}, {3, "n2"}};
  m.vc.tick("n1");
  auto back = decode_message(encode(m));
  REQUIRE(back);
  CHECK(back->ballot == ballot{3, "n2"});
  CHECK(back->seq == 7);
  CHECK(back->id == "c-1");
  CHECK(back->from == "alice");
  CHECK(back->ts == 123);
  CHECK(back->body == "{\"a\":1}");
  CHECK(back->vc == m.vc);
  CHECK_FALSE(decode_message("garbage"));
  CHECK_FALSE(decode_message(""));
  // A record written by a future version that old readers must not read.
  auto bytes = encode(m);
  auto future = bytes;
  future[3] = 9; // compat version (second uint16 of the envelope, little end)
  CHECK_FALSE(decode_message(future));
}

TEST_CASE("appends get gap-free seqs and dedupe on id, within and across appends") {
  chat::test::temp_dir dir;
  auto db = open_at(dir.path());
  auto r1 = append_one(*db, make_append("room", {}, {"a", "b", "a", "c"}));
  REQUIRE(r1.outcomes.size() == 4);
  CHECK(r1.outcomes[0].seq == 1);
  CHECK(r1.outcomes[1].seq == 2);
  CHECK(r1.outcomes[2].seq == 1);
  CHECK(r1.outcomes[2].dup);
  CHECK(r1.outcomes[3].seq == 3);
  CHECK(r1.stored.size() == 3);
  CHECK(r1.meta.seq == 3);
  CHECK(r1.meta.vc.get("n1") == 3);
  CHECK(r1.stored[2].vc.get("n1") == 3);

  auto r2 = append_one(*db, make_append("room", r1.meta, {"b", "d"}));
  CHECK(r2.outcomes[0].dup);
  CHECK(r2.outcomes[0].seq == 2);
  CHECK_FALSE(r2.outcomes[1].dup);
  CHECK(r2.outcomes[1].seq == 4);
}

TEST_CASE("one group commit covers several rooms; rooms do not share ids or seqs") {
  chat::test::temp_dir dir;
  auto db = open_at(dir.path());
  std::vector<room_append_result> out;
  write_group g;
  g.appends = {make_append("x", {}, {"1", "2"}), make_append("y", {}, {"1"})};
  auto s = db->commit(g, out);
  REQUIRE(s.ok());
  CHECK(out[0].meta.seq == 2);
  CHECK(out[1].meta.seq == 1);
  CHECK_FALSE(out[1].outcomes[0].dup);
  // A room whose name is a prefix of another must not see the other's messages.
  append_one(*db, make_append("xy", {}, {"z"}));
  std::vector<message_record> msgs;
  REQUIRE(db->read_after("x", 0, 100, msgs).ok());
  CHECK(msgs.size() == 2);
}

TEST_CASE("everything survives close and reopen") {
  chat::test::temp_dir dir;
  {
    auto db = open_at(dir.path());
    auto r = append_one(*db, make_append("room", {}, {"a", "b", "c"}));
    CHECK(r.meta.seq == 3);
  }
  auto db = open_at(dir.path());
  room_meta meta;
  REQUIRE(db->load_room("room", meta).ok());
  CHECK(meta.seq == 3);
  CHECK(meta.vc.get("n1") == 3);
  std::optional<uint64_t> seq;
  REQUIRE(db->find_id("room", "b", seq).ok());
  CHECK(seq == 2);
  // The idempotency key is durable: a resend after a restart is a dup.
  auto r = append_one(*db, make_append("room", meta, {"b", "d"}));
  CHECK(r.outcomes[0].dup);
  CHECK(r.outcomes[0].seq == 2);
  CHECK(r.outcomes[1].seq == 4);
  room_meta fresh;
  REQUIRE(db->load_room("never-written", fresh).ok());
  CHECK(fresh.seq == 0);
}

TEST_CASE("range reads: after is oldest first, before is newest first, both bounded") {
  chat::test::temp_dir dir;
  auto db = open_at(dir.path());
  std::vector<std::string> ids;
  for (int i = 1; i <= 20; ++i)
    ids.push_back("m" + std::to_string(i));
  append_one(*db, make_append("room", {}, ids));
  std::vector<message_record> msgs;
  REQUIRE(db->read_after("room", 5, 3, msgs).ok());
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].seq == 6);
  CHECK(msgs[2].seq == 8);
  REQUIRE(db->read_before("room", 5, 10, msgs).ok());
  REQUIRE(msgs.size() == 4);
  CHECK(msgs[0].seq == 4);
  CHECK(msgs[3].seq == 1);
  REQUIRE(db->read_before("room", UINT64_MAX, 2, msgs).ok());
  CHECK(msgs[0].seq == 20);
  REQUIRE(db->read_after("room", 20, 10, msgs).ok());
  CHECK(msgs.empty());
  REQUIRE(db->read_after("room", UINT64_MAX, 10, msgs).ok());
  CHECK(msgs.empty());
  REQUIRE(db->read_before("room", 1, 10, msgs).ok());
  CHECK(msgs.empty());
  REQUIRE(db->read_after("nothing", 0, 10, msgs).ok());
  CHECK(msgs.empty());
}

TEST_CASE("an unusable data directory is a clear error") {
  chat::test::temp_dir dir;
  auto file = dir.path() + "/a-file";
  { std::ofstream{file} << "x"; }
  std::string err;
  CHECK_FALSE(store::open({file + "/sub", true}, err));
  CHECK(err.find("cannot") == 0);
}

TEST_CASE("read receipts and last-seen times are stored and survive reopen") {
  chat::test::temp_dir dir;
  {
    auto db = open_at(dir.path());
    write_group g;
    g.receipts = {{"room", "alice", 4}, {"room", "bob", 9}, {"roomx", "carol", 1}};
    g.last_seen = {{"alice", 1700000000123}};
    std::vector<room_append_result> out;
    REQUIRE(db->commit(g, out).ok());
    CHECK(out.empty());
    write_group later;
    later.receipts = {{"room", "alice", 6}};
    REQUIRE(db->commit(later, out).ok());
  }
  auto db = open_at(dir.path());
  std::vector<std::pair<std::string, uint64_t>> receipts;
  REQUIRE(db->load_receipts("room", receipts).ok());
  REQUIRE(receipts.size() == 2);
  CHECK(receipts[0] == std::pair<std::string, uint64_t>{"alice", 6});
  CHECK(receipts[1] == std::pair<std::string, uint64_t>{"bob", 9});
  std::optional<int64_t> seen;
  REQUIRE(db->load_last_seen("alice", seen).ok());
  CHECK(seen == 1700000000123);
  REQUIRE(db->load_last_seen("nobody", seen).ok());
  CHECK_FALSE(seen);
}

TEST_CASE("a room's log is copied to another store in parts (a replica's catch-up); list_rooms "
          "skips promise-only rooms") {
  chat::test::temp_dir a_dir, b_dir;
  auto a = open_at(a_dir.path());
  auto b = open_at(b_dir.path());
  auto r1 = append_one(*a, make_append("moving", {}, {"m1", "m2", "m3"}));
  append_one(*a, make_append("moving", r1.meta, {"m4"}));
  append_one(*a, make_append("private:x", {}, {"p1"})); // a ':' and a prefix-free name
  append_one(*a, make_append("moving2", {}, {"n1"}));   // a name with "moving" as prefix
  write_group g;
  g.receipts = {{"moving", "bob", 3}};
  std::vector<room_append_result> out;
  REQUIRE(a->commit(g, out).ok());

  std::vector<std::string> rooms;
  REQUIRE(a->list_rooms(rooms).ok());
  CHECK(rooms == std::vector<std::string>{"moving", "moving2", "private:x"});

  // Two chunks, the meta and receipts with the last.
  std::vector<message_record> first, second;
  REQUIRE(a->read_after("moving", 0, 2, first).ok());
  REQUIRE(a->read_after("moving", 2, 100, second).ok());
  room_meta meta;
  REQUIRE(a->load_room("moving", meta).ok());
  std::vector<std::pair<std::string, uint64_t>> receipts;
  REQUIRE(a->load_receipts("moving", receipts).ok());
  room_meta part;
  part.seq = first.back().seq;
  part.vc = first.back().vc;
  REQUIRE(b->rewrite_room("moving", 0, first, part).ok());
  REQUIRE(b->rewrite_room("moving", 2, second, meta, receipts).ok());
  REQUIRE(b->rewrite_room("moving", 2, second, meta, receipts).ok()); // again: harmless

  room_meta moved;
  REQUIRE(b->load_room("moving", moved).ok());
  CHECK(moved.seq == 4);
  std::vector<message_record> all;
  REQUIRE(b->read_after("moving", 0, 100, all).ok());
  REQUIRE(all.size() == 4);
  CHECK(all[3].id == "m4");
  std::optional<uint64_t> seq;
  REQUIRE(b->find_id("moving", "m2", seq).ok());
  CHECK(seq == 2u);
  receipts.clear();
  REQUIRE(b->load_receipts("moving", receipts).ok());
  CHECK(receipts.size() == 1);
  // The new home goes on from there, and knows the old ids.
  auto next = append_one(*b, make_append("moving", moved, {"m2", "m5"}));
  CHECK(next.outcomes[0].dup);
  CHECK(next.outcomes[1].seq == 5u);

  // A node that only promised a ballot for a room holds no log of it.
  room_meta promised_only;
  promised_only.promised = {1, "n2"};
  REQUIRE(a->rewrite_room("promised", 0, {}, promised_only).ok());
  REQUIRE(a->list_rooms(rooms).ok());
  CHECK(rooms == std::vector<std::string>{"moving", "moving2", "private:x"});
}

TEST_CASE("a stored promise fences appends under older ballots (ADR 8)") {
  chat::test::temp_dir dir;
  auto db = open_at(dir.path());
  room_meta meta;
  meta.promised = {1, "n1"};
  auto first = append_one(*db, make_append("r", meta, {"a", "b"}));
  CHECK_FALSE(first.fenced);
  CHECK(first.stored.back().ballot == ballot{1, "n1"});
  CHECK(first.meta.last == ballot{1, "n1"});
  // Another home promised a newer ballot: the old home's append writes nothing.
  auto promised = first.meta;
  promised.promised = {2, "n2"};
  REQUIRE(db->rewrite_room("r", promised.seq, {}, promised).ok());
  auto stale = append_one(*db, make_append("r", first.meta, {"c"}));
  CHECK(stale.fenced);
  room_meta now;
  REQUIRE(db->load_room("r", now).ok());
  CHECK(now.seq == 2);
  std::optional<uint64_t> seq;
  REQUIRE(db->find_id("r", "c", seq).ok());
  CHECK_FALSE(seq);
}

TEST_CASE(
  "rewrite_room replaces the tail of a log, ids included, and keeps the meta it is given") {
  chat::test::temp_dir dir;
  auto db = open_at(dir.path());
  room_meta meta;
  meta.promised = {1, "n1"};
  auto res = append_one(*db, make_append("r", meta, {"a", "b", "c"}));
  // The tail after seq 1 ("b", "c", never acked) gives way to another home's log.
  message_record x{2, "x", "bob", 5, "{}", {}, {2, "n2"}};
  room_meta after = res.meta;
  after.seq = 2;
  after.last = {2, "n2"};
  after.promised = after.accepted = {2, "n2"};
  REQUIRE(db->rewrite_room("r", 1, {x}, after).ok());
  std::vector<message_record> log;
  REQUIRE(db->read_after("r", 0, 10, log).ok());
  REQUIRE(log.size() == 2);
  CHECK(log[0].id == "a");
  CHECK(log[1].id == "x");
  std::optional<uint64_t> seq;
  REQUIRE(db->find_id("r", "c", seq).ok());
  CHECK_FALSE(seq); // a discarded record's id may be sent again
  REQUIRE(db->find_id("r", "x", seq).ok());
  CHECK(seq == 2u);
  room_meta now;
  REQUIRE(db->load_room("r", now).ok());
  CHECK(now.seq == 2);
  CHECK(now.promised == ballot{2, "n2"});
}

TEST_CASE(
  "the log a take-over adopts is the newest writer's (accepted), not the one whose last "
  "record has the newest ballot (newer_log)") {
  // Seen in the randomized fault schedules: home A (ballot 1) wrote seq 1..2,
  // and a newer home C (ballot 3) adopted that log and synced it to replica n1
  // -- its records keep ballot 1. Meanwhile home B (ballot 2), deposed before
  // its replica confirmed, holds an unacked seq 2 of its own.
  chat::test::temp_dir d1, d3;
  auto n1 = open_at(d1.path());
  auto n3 = open_at(d3.path());
  room_meta a;
  a.promised = a.accepted = {1, "n2"};
  auto written = append_one(*n1, make_append("r", a, {"m1", "m2"}));
  auto synced = written.meta; // C's sync: the same records, C's ballot
  synced.promised = synced.accepted = {3, "n2"};
  REQUIRE(n1->rewrite_room("r", written.meta.seq, {}, synced).ok());
  room_meta b;
  b.promised = b.accepted = {2, "n3"};
  REQUIRE(append_one(*n3, make_append("r", b, {"m1"})).stored.size() == 1);
  REQUIRE(append_one(*n3, make_append("r",
                                      [&] {
                                        room_meta m;
                                        REQUIRE(n3->load_room("r", m).ok());
                                        return m;
                                      }(),
                                      {"other"}))
            .stored.size()
          == 1);
  room_meta m1, m3;
  REQUIRE(n1->load_room("r", m1).ok());
  REQUIRE(n3->load_room("r", m3).ok());
  REQUIRE(m1.seq == 2);
  REQUIRE(m3.seq == 2);
  CHECK(m3.last > m1.last); // the rule that lost acked records would pick n3
  CHECK(newer_log(m1, m3));
  CHECK_FALSE(newer_log(m3, m1));
  // Same writer: the longer log.
  auto longer = m1;
  longer.seq = 3;
  CHECK(newer_log(longer, m1));
  CHECK_FALSE(newer_log(m1, m1));
}

TEST_CASE(
  "a promise with accept records the ballot as the log's writer and touches no record") {
  chat::test::temp_dir dir;
  auto db = open_at(dir.path());
  room_meta meta;
  meta.promised = meta.accepted = {1, "n1"};
  std::vector<std::string> ids;
  for (int i = 0; i < 1500; ++i) // more than one export part (1,000)
    ids.push_back("m" + std::to_string(i));
  auto written = append_one(*db, make_append("r", meta, ids));
  REQUIRE(written.meta.seq == 1500);
  write_group g;
  g.promises.push_back({"r", {2, "n1"}, true});
  group_result res;
  REQUIRE(db->commit(g, res).ok());
  REQUIRE(res.promises.size() == 1);
  CHECK(res.promises[0].ok);
  room_meta now;
  REQUIRE(db->load_room("r", now).ok());
  CHECK(now.accepted == ballot{2, "n1"});
  CHECK(now.promised == ballot{2, "n1"});
  CHECK(now.seq == 1500);
  CHECK(now.last == ballot{1, "n1"});
  std::vector<message_record> log;
  REQUIRE(db->read_after("r", 0, 2000, log).ok());
  CHECK(log.size() == 1500);
  // A newer promise elsewhere: the accept does not hold, nothing changes.
  write_group newer;
  newer.promises.push_back({"r", {5, "n3"}, false});
  REQUIRE(db->commit(newer, res).ok());
  write_group stale;
  stale.promises.push_back({"r", {3, "n1"}, true});
  REQUIRE(db->commit(stale, res).ok());
  CHECK_FALSE(res.promises[0].ok);
  REQUIRE(db->load_room("r", now).ok());
  CHECK(now.accepted == ballot{2, "n1"});
}

TEST_CASE(
  "a copied part keeps its writer's label; a part labelled older than the stored log is "
  "refused") {
  chat::test::temp_dir dir;
  auto db = open_at(dir.path());
  room_meta a;
  a.promised = a.accepted = {1, "n1"};
  auto written = append_one(*db, make_append("r", a, {"m1", "m2"}));
  // A new home (ballot 3) copies the rest of ballot 1's log: the part keeps
  // ballot 1's label, promised to 3.
  message_record m3{3, "m3", "alice", 1000, "{}", {}, {1, "n1"}};
  room_meta part = written.meta;
  part.seq = 3;
  part.promised = {3, "n2"};
  part.accepted = {1, "n1"};
  write_group g;
  g.rewrites.push_back({"r", 2, {m3}, part, {}});
  group_result res;
  REQUIRE(db->commit(g, res).ok());
  REQUIRE(res.rewrites.size() == 1);
  CHECK_FALSE(res.rewrites[0].fenced);
  CHECK(res.rewrites[0].seq == 3u);
  room_meta now;
  REQUIRE(db->load_room("r", now).ok());
  CHECK(now.accepted == ballot{1, "n1"});
  CHECK(now.promised == ballot{3, "n2"});
  // Whole: the accept labels it with ballot 3.
  write_group accept;
  accept.promises.push_back({"r", {3, "n2"}, true});
  REQUIRE(db->commit(accept, res).ok());
  REQUIRE(db->load_room("r", now).ok());
  CHECK(now.accepted == ballot{3, "n2"});
  // A part of ballot 1's log sent under a newer promise must not hide the log
  // ballot 3 wrote.
  room_meta stale = part;
  stale.promised = {4, "n3"};
  write_group late;
  late.rewrites.push_back({"r", 0, {}, stale, {}});
  REQUIRE(db->commit(late, res).ok());
  CHECK(res.rewrites[0].fenced);
  std::vector<message_record> log;
  REQUIRE(db->read_after("r", 0, 10, log).ok());
  CHECK(log.size() == 3);
}

TEST_CASE(
  "an append that does not continue the stored log where its writer left it is refused") {
  chat::test::temp_dir dir;
  auto db = open_at(dir.path());
  room_meta a;
  a.promised = a.accepted = {1, "n1"};
  auto first = append_one(*db, make_append("r", a, {"m1", "m2"}));
  REQUIRE(first.meta.seq == 2);
  // A second writer under the same ballot, whose meta says the log is empty.
  auto stale = append_one(*db, make_append("r", a, {"other"}));
  CHECK(stale.fenced);
  CHECK(stale.meta.seq == 2);
  std::optional<uint64_t> seq;
  REQUIRE(db->find_id("r", "m1", seq).ok());
  CHECK(seq == 1u);
  REQUIRE(db->find_id("r", "other", seq).ok());
  CHECK_FALSE(seq);
}

namespace {

std::unique_ptr<store> open_with(const std::string& path, retention_policy policy) {
  std::string err;
  open_options o{path, true};
  o.retention = policy;
  auto db = store::open(o, err);
  REQUIRE_MESSAGE(db, err);
  return db;
}

room_append_result append_at(store& db, const std::string& room, std::vector<std::string> ids,
                             int64_t ts) {
  room_meta meta;
  REQUIRE(db.load_room(room, meta).ok());
  auto req = make_append(room, meta, std::move(ids));
  for (auto& e : req.entries)
    e.ts = ts;
  return append_one(db, std::move(req));
}

std::vector<uint64_t> seqs_of(store& db, const std::string& room) {
  std::vector<message_record> log;
  REQUIRE(db.read_after(room, 0, 1000, log).ok());
  std::vector<uint64_t> out;
  for (auto& r : log)
    out.push_back(r.seq);
  return out;
}

} // namespace

TEST_CASE("the dedupe window: ids of messages past the last N and older than T are forgotten; "
          "a resend of one is a new message") {
  chat::test::temp_dir dir;
  retention_policy p;
  p.dedupe_ids = 3;
  p.dedupe_ms = 60000;
  auto db = open_with(dir.path(), p);
  append_at(*db, "r", {"old1", "old2"}, 1000); // long ago
  append_at(*db, "r", {"new1"}, 1'000'000);    // inside T
  append_at(*db, "r", {"a", "b", "c"}, 1000);  // the last three
  trim_stats ts;
  REQUIRE(db->trim(1'030'000, 100, ts).ok());
  CHECK(ts.forgotten == 2); // old1, old2; new1 is young, a..c are the last three
  CHECK_FALSE(ts.more);
  CHECK(seqs_of(*db, "r") == std::vector<uint64_t>{1, 2, 3, 4, 5, 6}); // messages stay
  auto again = append_at(*db, "r", {"old1", "new1", "b"}, 1'030'000);
  REQUIRE(again.outcomes.size() == 3);
  CHECK_FALSE(again.outcomes[0].dup);
  CHECK(again.outcomes[0].seq == 7);
  CHECK(again.outcomes[1].dup);
  CHECK(again.outcomes[2].dup);
  // The old record of a resent id does not take the new one's key with it.
  REQUIRE(db->trim(1'030'000, 100, ts).ok());
  std::optional<uint64_t> seq;
  REQUIRE(db->find_id("r", "old1", seq).ok());
  CHECK(seq == 7u);
}

TEST_CASE("retention removes the oldest messages by count and by age, with their ids, in "
          "bounded sweeps") {
  chat::test::temp_dir dir;
  retention_policy p;
  p.keep_messages = 4;
  p.keep_ms = 60000;
  p.dedupe_ids = 1;
  p.dedupe_ms = 0;
  auto db = open_with(dir.path(), p);
  std::vector<std::string> ids;
  for (int i = 1; i <= 10; ++i)
    ids.push_back("m" + std::to_string(i));
  append_at(*db, "r", ids, 1'000'000);
  append_at(*db, "other", {"x1", "x2"}, 1000); // older than keep_ms
  trim_stats ts;
  REQUIRE(db->trim(1'030'000, 3, ts).ok()); // budget 3: a part of the work
  CHECK(ts.more);
  CHECK(ts.removed == 3);
  for (int i = 0; i < 10 && ts.more; ++i) {
    ts = {};
    REQUIRE(db->trim(1'030'000, 3, ts).ok());
  }
  CHECK_FALSE(ts.more);
  CHECK(seqs_of(*db, "r") == std::vector<uint64_t>{7, 8, 9, 10});
  CHECK(seqs_of(*db, "other").empty());
  room_meta m;
  REQUIRE(db->load_room("other", m).ok());
  CHECK(m.seq == 2); // the log goes on after what was removed
  std::optional<uint64_t> seq;
  REQUIRE(db->find_id("r", "m1", seq).ok());
  CHECK_FALSE(seq);
  auto next = append_at(*db, "other", {"x1"}, 1'030'000); // its id went with it
  CHECK(next.stored.size() == 1);
  CHECK(next.stored.at(0).seq == 3);
}

TEST_CASE("a copy in parts changes the log only with its last part; a part of another copy "
          "starts it again") {
  chat::test::temp_dir dir;
  auto db = open_at(dir.path());
  room_meta a;
  a.promised = a.accepted = {1, "n1"};
  auto written = append_one(*db, make_append("r", a, {"a1", "a2", "a3", "a4"}));
  REQUIRE(written.meta.seq == 4);
  // Ballot 2 copies a log labelled {1, n9} (its commit point 0) in two parts.
  auto record = [](uint64_t seq, std::string id) {
    return message_record{seq, std::move(id), "bob", 1, "{}", {}, {1, "n9"}};
  };
  room_meta part = written.meta;
  part.promised = {2, "n2"};
  part.accepted = {1, "n9"};
  part.commit = 0;
  part.seq = 2;
  auto rewrite = [&](uint64_t after, std::vector<message_record> recs, room_meta m, bool last,
                     uint64_t from = 0) {
    write_group g;
    g.rewrites.push_back({"r", after, std::move(recs), m, {}, from, last});
    group_result res;
    REQUIRE(db->commit(g, res).ok());
    return res.rewrites.at(0);
  };
  // a1..a4 are the log's commit-0 tail here: the copy replaces them, but
  // only once whole.
  auto first = rewrite(0, {record(1, "b1"), record(2, "b2")}, part, false);
  CHECK(first.seq == 2u);
  std::vector<message_record> log;
  REQUIRE(db->read_after("r", 0, 10, log).ok());
  CHECK(log.size() == 4);
  CHECK(log[0].id == "a1");
  // A part that does not follow the staged one: start again from 0.
  part.seq = 3;
  CHECK(rewrite(5, {}, part, true).seq == 0u);
  auto again = rewrite(
    0, {record(1, "b1"), record(2, "b2")},
    [&] {
      auto m = part;
      m.seq = 2;
      return m;
    }(),
    false);
  CHECK(again.seq == 2u);
  auto last = rewrite(2, {record(3, "b3")}, part, true);
  CHECK(last.seq == 3u);
  log.clear();
  REQUIRE(db->read_after("r", 0, 10, log).ok());
  REQUIRE(log.size() == 3);
  CHECK(log[0].id == "b1");
  CHECK(log[2].id == "b3");
  std::optional<uint64_t> seq;
  REQUIRE(db->find_id("r", "a4", seq).ok());
  CHECK_FALSE(seq);
  REQUIRE(db->find_id("r", "b2", seq).ok());
  CHECK(seq == 2u);
}

TEST_CASE("a retention sweep over more rooms than its budget goes on where it stopped and "
          "reaches every room") {
  chat::test::temp_dir dir;
  retention_policy p;
  p.keep_messages = 1;
  auto db = open_with(dir.path(), p);
  for (int r = 0; r < 30; ++r)
    append_at(*db, "room" + std::to_string(r), {"a", "b"}, 1000);
  trim_stats ts;
  int sweeps = 0;
  do {
    ts = {};
    REQUIRE(db->trim(2000, 5, ts).ok());
  } while (ts.more && ++sweeps < 100);
  CHECK_FALSE(ts.more);
  for (int r = 0; r < 30; ++r)
    CHECK(seqs_of(*db, "room" + std::to_string(r)) == std::vector<uint64_t>{2});
}

TEST_CASE("a copy does not bring back what retention removed here") {
  chat::test::temp_dir dir;
  retention_policy p;
  p.keep_messages = 2;
  auto db = open_with(dir.path(), p);
  append_at(*db, "r", {"m1", "m2", "m3", "m4"}, 1000);
  trim_stats ts;
  REQUIRE(db->trim(2000, 100, ts).ok());
  REQUIRE(seqs_of(*db, "r") == std::vector<uint64_t>{3, 4});
  room_meta now;
  REQUIRE(db->load_room("r", now).ok());
  REQUIRE(now.trimmed == 2);
  // A take-over's copy from seq 0 (another node kept more).
  std::vector<message_record> copy;
  for (uint64_t s = 1; s <= 5; ++s)
    copy.push_back({s, "m" + std::to_string(s), "alice", 1000, "{}", {}, {}});
  auto meta = now;
  meta.seq = 5;
  write_group g;
  g.rewrites.push_back({"r", 0, copy, meta, {}});
  group_result res;
  REQUIRE(db->commit(g, res).ok());
  CHECK(res.rewrites.at(0).seq == 5u);
  CHECK(seqs_of(*db, "r") == std::vector<uint64_t>{3, 4, 5});
  std::optional<uint64_t> seq;
  REQUIRE(db->find_id("r", "m1", seq).ok());
  CHECK_FALSE(seq);
}
