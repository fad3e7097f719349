// The take-over (ADR 8) against real store actors whose peers stop answering
// in the middle of a multi-part copy, as a node that crashes or pauses would.
#include <doctest/doctest.h>

#include <optional>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "actor_config.hpp"
#include "chat/actors/errc.hpp"
#include "chat/actors/node.hpp"
#include "room_export.hpp"
#include "room_replication.hpp"
#include "store_actor.hpp"
#include "store_messages.hpp"
#include "temp_dir.hpp"

using namespace chat;
using namespace std::chrono_literals;

namespace {

const std::string room = "big";
constexpr int acked = 2500; // three parts of a copy (export_part_size)

/// One actor system; every actor a test spawns is ended with it (an actor
/// system waits for its actors before it goes).
struct world {
  std::vector<std::unique_ptr<test::temp_dir>> dirs; ///< gone after the system
  caf::actor_system sys{test::actor_config()};
  std::vector<caf::actor> spawned;
  ~world() {
    for (auto& a : spawned)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }
  caf::actor keep(caf::actor a) {
    spawned.push_back(a);
    return a;
  }
};

/// The ids n1 wrote under ballot (1, n1) and every replica acked.
std::vector<std::string> acked_ids() {
  std::vector<std::string> ids;
  for (int i = 1; i <= acked; ++i)
    ids.push_back("m" + std::to_string(i));
  return ids;
}

/// A node's RocksDB dir and store actor; `seeded`: holding n1's acked log.
struct store_node {
  store_node(world& w, const std::string& id, bool seeded = false) :
    id(id), dir(*w.dirs.emplace_back(std::make_unique<test::temp_dir>())) {
    std::string err;
    auto db = storage::store::open({dir.path(), false}, err);
    REQUIRE_MESSAGE(db, err);
    if (seeded) {
      storage::room_meta meta;
      meta.promised = meta.accepted = {1, "n1"};
      storage::room_append req{room, "n1", meta, {}};
      for (auto& id : acked_ids())
        req.entries.push_back({id, "alice", 1000, "{}"});
      storage::write_group g;
      g.appends.push_back(std::move(req));
      std::vector<storage::room_append_result> out;
      auto st = db->commit(g, out);
      REQUIRE_MESSAGE(st.ok(), st.error);
    }
    actor = actors::spawn_store(w.sys, std::shared_ptr<storage::store>(std::move(db)),
                                std::make_shared<actors::node_metrics>());
    w.keep(caf::actor_cast<caf::actor>(actor));
  }
  std::string id;
  test::temp_dir& dir;
  msg::store_actor actor;
};

struct peer_state {
  int parts_left = -1; ///< copy parts answered before going silent; -1: all
  std::vector<caf::response_promise> never; ///< kept, so never answered
};

/// A node's directory as a take-over sees it, in front of a real store; it
/// answers promises and accepts, and `parts` parts of a copy (pulls and
/// replicated parts), then nothing more.
caf::behavior flaky_peer(caf::stateful_actor<peer_state>* self, msg::store_actor store,
                         int parts) {
  self->state.parts_left = parts;
  auto silent = [self] {
    auto& left = self->state.parts_left;
    if (left == 0)
      return true;
    if (left > 0)
      --left;
    return false;
  };
  return {
    [=](msg::room_prepare& x) {
      return self->delegate(store, std::move(x));
    },
    [=](msg::accept_atom a, msg::room_prepare& x) {
      return self->delegate(store, a, std::move(x));
    },
    [=](msg::room_replicate& x) -> caf::result<uint64_t> {
      auto rp = self->make_response_promise<uint64_t>();
      if (silent()) {
        self->state.never.push_back(rp);
        return rp;
      }
      self->request(store, 5s, std::move(x))
        .then(
          [=](uint64_t seq) mutable {
            rp.deliver(seq);
          },
          [=](caf::error& err) mutable {
            rp.deliver(err);
          });
      return rp;
    },
    [=](msg::room_pull& x) -> caf::result<msg::room_import> {
      auto rp = self->make_response_promise<msg::room_import>();
      if (silent()) {
        self->state.never.push_back(rp);
        return rp;
      }
      actors::export_part(
        self, store, x.room, x.after,
        [=](msg::room_import& part, uint64_t, bool) mutable {
          rp.deliver(std::move(part));
        },
        [=](caf::error& err) mutable {
          rp.deliver(err);
        });
      return rp;
    },
  };
}

/// A flaky peer answers the room-log requests a node's directory answers.
msg::directory_actor peer(world& w, const store_node& n, int parts = -1) {
  return caf::actor_cast<msg::directory_actor>(w.keep(w.sys.spawn(flaky_peer, n.actor, parts)));
}

/// Runs actors::take_over as a room actor would and tells `client` (true, meta)
/// once done, (false, meta) if it failed. (Spawned with arguments: CAF 0.17's
/// spawn of a function without any dereferences a null tuple, which UBSan
/// reports.)
caf::behavior take_over_driver(caf::event_based_actor* a, actors::room_nodes nodes,
                               caf::actor client) {
  a->request(nodes.store, 5s, msg::store_load{room}).then([=](storage::room_meta& own) {
    actors::take_over(
      a, nodes, own,
      [=](storage::room_meta& m) {
        a->send(client, true, m);
        a->quit();
      },
      [=](const caf::error&) {
        a->send(client, false, storage::room_meta{});
        a->quit();
      });
  });
  return {[](int) {}};
}

/// Starts a take-over of `room` by `home` over `peers` (every other node of
/// its view) and `replicas` (those of them that keep the log); `client` hears
/// how it ended (take_over_driver).
void start_take_over(world& w, store_node& home, std::vector<msg::directory_actor> peers,
                     std::vector<msg::directory_actor> replicas, caf::actor client,
                     uint64_t epoch = 0) {
  actors::room_nodes nodes;
  nodes.epoch = epoch;
  nodes.room = room;
  nodes.node_id = home.id;
  nodes.store = home.actor;
  nodes.peers = std::move(peers);
  nodes.replicas = std::move(replicas);
  w.sys.spawn(take_over_driver, std::move(nodes), std::move(client));
}

/// Runs a take-over (start_take_over): true once done.
bool take_over(world& w, store_node& home, std::vector<msg::directory_actor> peers,
               std::vector<msg::directory_actor> replicas, uint64_t epoch = 0) {
  caf::scoped_actor self{w.sys};
  start_take_over(w, home, std::move(peers), std::move(replicas), self, epoch);
  bool done = false;
  self->receive(
    [&](bool ok, const storage::room_meta&) {
      done = ok;
    },
    caf::after(10s) >>
      [] {
        FAIL("no take-over result");
      });
  return done;
}

/// The ids of a store's log, in seq order (checked gap-free).
std::vector<std::string> log_of(world& w, const store_node& n) {
  auto& sys = w.sys;
  caf::scoped_actor self{sys};
  std::vector<std::string> ids;
  self->request(n.actor, 5s, msg::store_read{room, {0, 0, 10 * acked}})
    .receive(
      [&](msg::message_list& xs) {
        for (auto& r : xs) {
          CHECK(r.seq == ids.size() + 1);
          ids.push_back(r.id);
        }
      },
      [&](caf::error& err) {
        FAIL(w.sys.render(err));
      });
  return ids;
}

/// `n`'s log is n1's acked one, whole.
void check_acked(world& w, const store_node& n) {
  auto ids = log_of(w, n);
  INFO(n.id << " holds " << ids.size() << " records");
  CHECK(ids == acked_ids());
}

} // namespace

TEST_CASE("a replica sync that stops after a part leaves a log no later take-over prefers to a "
          "whole one (ADR 8)") {
  world w;
  store_node n1{w, "n1", true}, n2{w, "n2"}, n3{w, "n3", true};
  // n1 takes the room over again (its own log is the best) and syncs n2, its
  // new replica, in three parts; n2 stops answering after the first.
  CHECK_FALSE(take_over(w, n1, {peer(w, n2, 1), peer(w, n3)}, {peer(w, n2, 1)}));
  CHECK(log_of(w, n2).empty()); // its first part waits, staged
  // n1 is gone; n2 becomes the room's home with n3 as its replica: n3's whole
  // log is the best one.
  REQUIRE(take_over(w, n2, {peer(w, n3)}, {peer(w, n3)}));
  check_acked(w, n2);
  check_acked(w, n3);
}

TEST_CASE("an adoption that stops after a part leaves a log no later take-over prefers to a "
          "whole one (ADR 8)") {
  world w;
  store_node n1{w, "n1", true}, n2{w, "n2"}, n3{w, "n3", true};
  // n2 becomes the home; the best log is n1's (asked first), which stops
  // answering after the first part of the pull (a pause).
  CHECK_FALSE(take_over(w, n2, {peer(w, n1, 1), peer(w, n3)}, {peer(w, n3)}));
  CHECK(log_of(w, n2).empty()); // its first part waits, staged
  // n1 is still paused: n3 becomes the home with n2 as its replica.
  REQUIRE(take_over(w, n3, {peer(w, n2)}, {peer(w, n2)}));
  check_acked(w, n3);
  check_acked(w, n2);
}

TEST_CASE("a whole copy is the new home's: its replicas take later appends after it") {
  world w;
  store_node n1{w, "n1", true}, n2{w, "n2"}, n3{w, "n3"};
  REQUIRE(take_over(w, n2, {peer(w, n1), peer(w, n3)}, {peer(w, n3)}));
  check_acked(w, n2);
  check_acked(w, n3);
  // Both are labelled with n2's ballot, so the next take-over by n3 (n1 and
  // n2 gone) finds n3's log the newest writer's as it is.
  caf::scoped_actor self{w.sys};
  for (auto* n : {&n2, &n3})
    self->request(n->actor, 5s, msg::store_load{room})
      .receive(
        [&](storage::room_meta& m) {
          CHECK(m.accepted.node.rfind("n2/", 0) == 0); // n2's proposer
          CHECK(m.accepted == m.promised);
          CHECK(m.seq == acked);
        },
        [&](caf::error& err) {
          FAIL(w.sys.render(err));
        });
}

/// The ballot a store promised for the room.
storage::ballot promised_of(world& w, const store_node& n) {
  caf::scoped_actor self{w.sys};
  storage::ballot out;
  self->request(n.actor, 5s, msg::store_load{room})
    .receive(
      [&](storage::room_meta& m) {
        out = m.promised;
      },
      [&](caf::error& err) {
        FAIL(w.sys.render(err));
      });
  return out;
}

TEST_CASE("member sets lead ballots (ADR 10): a take-over counting an older member set cannot "
          "prepare a node that promised under a newer one; one under a newer set can") {
  world w;
  store_node n1{w, "n1", true}, n2{w, "n2"}, n3{w, "n3"}, n4{w, "n4"};
  REQUIRE(take_over(w, n2, {peer(w, n1), peer(w, n3)}, {peer(w, n3)}, 5));
  auto under5 = promised_of(w, n1);
  CHECK((under5.n >> 32) == 5);
  // n4 has not learned member set 5 (its view still counts set 4). Without the
  // epoch in the ballot it would outbid n2's counter and write under set 4.
  CHECK_FALSE(take_over(w, n4, {peer(w, n1)}, {peer(w, n1)}, 4));
  CHECK(promised_of(w, n1) == under5);
  // Under member set 6 the take-over goes through, and continues the log.
  REQUIRE(take_over(w, n3, {peer(w, n1), peer(w, n2)}, {peer(w, n1)}, 6));
  CHECK((promised_of(w, n1).n >> 32) == 6);
  check_acked(w, n3);
}

TEST_CASE("two take-overs of one room on one node at once never share a ballot: at most one of "
          "them can append") {
  // An old room actor still finishing its take-over while the next one
  // activates, both having read the same promise from the store.
  world w;
  store_node n1{w, "n1", true}, n2{w, "n2", true};
  caf::scoped_actor self{w.sys};
  start_take_over(w, n1, {peer(w, n2)}, {peer(w, n2)}, self);
  start_take_over(w, n1, {peer(w, n2)}, {peer(w, n2)}, self);
  std::vector<storage::room_meta> done;
  for (int i = 0; i < 2; ++i)
    self->receive(
      [&](bool ok, const storage::room_meta& m) {
        if (ok)
          done.push_back(m);
      },
      caf::after(10s) >>
        [] {
          FAIL("no take-over result");
        });
  REQUIRE_FALSE(done.empty());
  if (done.size() == 2)
    CHECK(done[0].promised != done[1].promised);
  // Each writes the next message as its room actor would: one seq, one writer.
  int appended = 0;
  for (auto& m : done) {
    storage::room_append req{
      room, "n1", m, {{"next-" + std::to_string(appended), "bob", 1, "{}"}}};
    self->request(n1.actor, 5s, msg::store_append{std::move(req)})
      .receive(
        [&](storage::room_append_result& r) {
          if (!r.fenced) {
            CHECK(r.stored.at(0).seq == acked + 1);
            ++appended;
          }
        },
        [&](caf::error& err) {
          FAIL(w.sys.render(err));
        });
  }
  CHECK(appended == 1);
}

TEST_CASE("a copy that stops after a part leaves the receiver's log as it was: a longer log is "
          "never cut short (ADR 8)") {
  // A review's schedule: n2 takes the room over keeping its own log (now the
  // newest writer's) and its sync to n3 stops after a part; then n1, holding
  // the same acked log under the older ballot, adopts n2's and that stops
  // after a part too; then n2 is gone. Applying a part at once cut n1's log
  // to its first 1,000 records under n2's label, and the last take-over
  // spread that cut to n3.
  world w;
  store_node n1{w, "n1", true}, n2{w, "n2", true}, n3{w, "n3"};
  CHECK_FALSE(take_over(w, n2, {peer(w, n1), peer(w, n3, 1)}, {peer(w, n3, 1)}));
  CHECK(log_of(w, n3).empty()); // the first part waits, staged
  CHECK_FALSE(take_over(w, n1, {peer(w, n2, 1), peer(w, n3)}, {peer(w, n3)}));
  check_acked(w, n1); // untouched by the first part of the adoption
  REQUIRE(take_over(w, n1, {peer(w, n3)}, {peer(w, n3)}));
  check_acked(w, n1);
  check_acked(w, n3);
}
