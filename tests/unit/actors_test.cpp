// The room, store, directory and connection actors on a real actor system with
// a real RocksDB in a temp dir, driven the way the gateway drives them: commands
// into a connection actor, frames out of its outbox.

#include <doctest/doctest.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actor_config.hpp"
#include "chat/actors/node.hpp"
#include "eventually.hpp"
#include "store_messages.hpp"
#include "temp_dir.hpp"
#include "test_client.hpp"

using namespace chat;
using json = nlohmann::json;
using namespace std::chrono_literals;

namespace {

using test::client;

/// A node: actor system + store + directory over a data dir that outlives it.
struct node {
  explicit node(const std::string& dir, std::chrono::milliseconds idle = 60s,
                std::chrono::milliseconds presence_ttl = 30s) :
    sys(test::actor_config()) {
    std::string err;
    auto db = storage::store::open({dir, false}, err);
    REQUIRE_MESSAGE(db, err);
    actors::node_options opts;
    opts.room_idle = idle;
    opts.presence_ttl = presence_ttl;
    handles = actors::spawn_node(sys, opts, std::move(db));
  }
  ~node() { actors::stop_node(sys, handles); }

  caf::actor_system sys;
  actors::node_handles handles;
};

/// Joins each client to `room` (without since) and consumes its `joined`.
void join_all(const std::string& room, std::initializer_list<client*> clients) {
  for (auto* c : clients) {
    c->send(msg::cmd_join{"", room, false, 0});
    c->next("joined");
  }
}

msg::cmd_send send_cmd(const std::string& room, const std::string& id) {
  return msg::cmd_send{"\"" + id + "\"", room, id, "{\"text\":\"" + id + "\"}"};
}

} // namespace

TEST_CASE("a room numbers messages gap-free and every member gets each once, in order") {
  test::temp_dir dir;
  node n{dir.path()};
  client alice{n.sys, n.handles, "alice"};
  client bob{n.sys, n.handles, "bob"};
  alice.send(msg::cmd_join{"1", "r", false, 0});
  CHECK(alice.next("joined")["seq"] == 0);
  bob.send(msg::cmd_join{"2", "r", false, 0});
  auto joined = bob.next("joined");
  CHECK(joined["members"].size() == 2);
  CHECK(alice.next("member")["user"] == "bob");
  constexpr int per_sender = 200;
  for (int i = 0; i < per_sender; ++i) {
    alice.send(send_cmd("r", "a" + std::to_string(i)));
    bob.send(send_cmd("r", "b" + std::to_string(i)));
  }
  for (auto* c : {&alice, &bob}) {
    int next_a = 0;
    int next_b = 0;
    for (uint64_t seq = 1; seq <= 2 * per_sender; ++seq) {
      auto m = c->next("message");
      REQUIRE(m["seq"] == seq);
      auto id = m["id"].get<std::string>();
      // Each sender's messages keep their sending order.
      if (id[0] == 'a')
        CHECK(id == "a" + std::to_string(next_a++));
      else
        CHECK(id == "b" + std::to_string(next_b++));
      CHECK(m["vc"]["n1"] == seq);
    }
  }
}

TEST_CASE("a duplicate id is acked with the original seq and delivered once") {
  test::temp_dir dir;
  node n{dir.path()};
  client alice{n.sys, n.handles, "alice"};
  alice.send(msg::cmd_join{"", "r", false, 0});
  alice.next("joined");
  alice.send(send_cmd("r", "x"));
  alice.send(send_cmd("r", "x"));
  alice.send(send_cmd("r", "y"));
  std::vector<json> acks;
  std::vector<json> messages;
  while (acks.size() < 3 || messages.size() < 2) {
    auto j = alice.next();
    (j["type"] == "ack" ? acks : messages).push_back(j);
  }
  CHECK(acks[0]["seq"] == 1);
  CHECK(acks[0]["dup"] == false);
  CHECK(acks[1]["seq"] == 1);
  CHECK(acks[1]["dup"] == true);
  CHECK(acks[2]["seq"] == 2);
  CHECK(acks[2]["ref"] == "y");
  CHECK(messages[0]["id"] == "x");
  CHECK(messages[1]["id"] == "y");
  CHECK(alice.quiet(200ms));
}

TEST_CASE("idempotency and seq survive a restart of the node") {
  test::temp_dir dir;
  {
    node n{dir.path()};
    client alice{n.sys, n.handles, "alice"};
    alice.send(msg::cmd_join{"", "r", false, 0});
    alice.next("joined");
    for (int i = 0; i < 5; ++i)
      alice.send(send_cmd("r", "m" + std::to_string(i)));
    for (int i = 0; i < 5; ++i)
      alice.next("ack");
  }
  node n{dir.path()};
  client alice{n.sys, n.handles, "alice"};
  alice.send(msg::cmd_join{"", "r", false, 0});
  CHECK(alice.next("joined")["seq"] == 5);
  alice.send(send_cmd("r", "m2"));
  auto ack = alice.next("ack");
  CHECK(ack["seq"] == 3);
  CHECK(ack["dup"] == true);
  alice.send(send_cmd("r", "new"));
  CHECK(alice.next("ack")["seq"] == 6);
}

TEST_CASE("join with since replays exactly the missing messages, then live ones") {
  test::temp_dir dir;
  node n{dir.path()};
  client alice{n.sys, n.handles, "alice"};
  alice.send(msg::cmd_join{"", "r", false, 0});
  alice.next("joined");
  // More than the room's in-memory window, so the replay reads the store.
  constexpr uint64_t total = 700;
  for (uint64_t i = 1; i <= total; ++i)
    alice.send(send_cmd("r", "m" + std::to_string(i)));
  for (uint64_t i = 1; i <= total; ++i)
    alice.next("ack");
  uint64_t last = total; // each round adds one live message
  for (uint64_t since : {uint64_t{0}, uint64_t{10}, uint64_t{650}, total, total + 50}) {
    CAPTURE(since);
    client bob{n.sys, n.handles, "bob"};
    bob.send(msg::cmd_join{"", "r", true, since});
    CHECK(bob.next("joined")["seq"] == last);
    for (uint64_t seq = since + 1; seq <= last; ++seq)
      REQUIRE(bob.next("message")["seq"] == seq);
    ++last;
    alice.send(send_cmd("r", "live" + std::to_string(since)));
    auto live = bob.next("message");
    CHECK(live["id"] == "live" + std::to_string(since));
    alice.next("ack");
  }
  // Through an outbox that holds a few messages only: the replay stops when it
  // is full and goes on when the reader has taken frames (the outbox's resume),
  // never overflowing it (that would close the connection).
  client carol{n.sys, n.handles, "carol", 4096};
  carol.send(msg::cmd_join{"", "r", true, 0});
  carol.next("joined");
  for (uint64_t seq = 1; seq <= last; ++seq)
    REQUIRE(carol.next("message")["seq"] == seq);
}

TEST_CASE("not joined, leave, history") {
  test::temp_dir dir;
  node n{dir.path()};
  client alice{n.sys, n.handles, "alice"};
  alice.send(send_cmd("r", "x"));
  auto err = alice.next("error");
  CHECK(err["code"] == "not_joined");
  CHECK(err["ref"] == "x");
  alice.send(msg::cmd_typing{"", "r"});
  CHECK(alice.next("error")["code"] == "not_joined");
  alice.send(msg::cmd_leave{"7", "r"});
  CHECK(alice.next("ok")["ref"] == 7);
  alice.send(msg::cmd_join{"", "r", false, 0});
  alice.next("joined");
  for (int i = 1; i <= 5; ++i)
    alice.send(send_cmd("r", std::to_string(i)));
  for (int i = 1; i <= 5; ++i)
    alice.next("ack");
  msg::cmd_history h;
  h.room = "r";
  h.window.before = 4;
  h.window.limit = 2;
  alice.send(h);
  auto hist = alice.next("history");
  REQUIRE(hist["messages"].size() == 2);
  CHECK(hist["messages"][0]["seq"] == 3);
  CHECK(hist["messages"][1]["seq"] == 2);
  h.window = {0, 3, 50};
  alice.send(h);
  hist = alice.next("history");
  REQUIRE(hist["messages"].size() == 2);
  CHECK(hist["messages"][0]["seq"] == 4);
  h.room = "never-used";
  alice.send(h);
  CHECK(alice.next("history")["messages"].empty());
  alice.send(msg::cmd_leave{"", "r"});
  alice.next("ok");
  alice.send(send_cmd("r", "after-leave"));
  CHECK(alice.next("error")["code"] == "not_joined");
}

TEST_CASE("presence: a connection that falls silent is dropped after the TTL, and comes back") {
  test::temp_dir dir;
  node n{dir.path(), 200ms, 300ms}; // forget idle users after 200 ms; TTL 300 ms
  auto held = [&] {
    return n.handles.metrics->presence_users.load();
  };
  client watcher{n.sys, n.handles, "w"};
  watcher.send(msg::cmd_presence{"1", {"quiet"}});
  watcher.next("presence_state");
  client quiet{n.sys, n.handles, "quiet"}; // registers once, then never heart-beats
  CHECK(watcher.next("presence")["status"] == "online");
  CHECK(watcher.next("presence")["status"] == "offline"); // by TTL, its socket still open
  watcher.send(msg::cmd_presence{"2", {}});
  watcher.next("presence_state");
  // Both users are silent and unwatched now: forgotten, connections and all.
  CHECK(test::eventually(
    [&] {
      return held() == 0;
    },
    5s));
  quiet.send(msg::heartbeat_atom::value); // a sign of life registers it again
  CHECK(test::eventually([&] {
    return held() == 1;
  }));
}

TEST_CASE("on a single node, history of a room that is not active comes from the store") {
  test::temp_dir dir;
  node n{dir.path(), 200ms}; // an empty room stops after 200 ms
  caf::scoped_actor self{n.sys};
  auto active = [&](const std::string& room) {
    bool found = false;
    self
      ->request(caf::actor_cast<msg::directory_actor>(n.handles.directory), 2s,
                msg::find_room{room, 0})
      .receive(
        [&](msg::room_actor& a) {
          found = static_cast<bool>(a);
        },
        [](caf::error&) {});
    return found;
  };
  client alice{n.sys, n.handles, "alice"};
  join_all("q", {&alice});
  for (int i = 1; i <= 3; ++i)
    alice.send(send_cmd("q", std::to_string(i)));
  for (int i = 1; i <= 3; ++i)
    alice.next("ack");
  alice.send(msg::cmd_leave{"", "q"});
  alice.next("ok");
  REQUIRE(test::eventually([&] {
    return !active("q");
  }));
  msg::cmd_history h;
  h.room = "q";
  h.window.limit = 10;
  alice.send(h);
  CHECK(alice.next("history")["messages"].size() == 3);
  h.room = "never-used";
  alice.send(h);
  CHECK(alice.next("history")["messages"].empty());
  CHECK_FALSE(active("q"));
  CHECK_FALSE(active("never-used"));
}

TEST_CASE("typing reaches the other members, not the typist") {
  test::temp_dir dir;
  node n{dir.path()};
  client alice{n.sys, n.handles, "alice"};
  client bob{n.sys, n.handles, "bob"};
  join_all("r", {&alice, &bob});
  alice.send(msg::cmd_typing{"", "r"});
  CHECK(bob.next("typing")["user"] == "alice");
  alice.next("member");
  CHECK(alice.quiet(100ms));
}

TEST_CASE("an idle empty room passivates and comes back where it left off") {
  test::temp_dir dir;
  node n{dir.path(), 30ms};
  client alice{n.sys, n.handles, "alice"};
  for (int round = 0; round < 5; ++round) {
    alice.send(msg::cmd_join{"", "r", false, 0});
    CHECK(alice.next("joined")["seq"] == round);
    alice.send(send_cmd("r", "m" + std::to_string(round)));
    CHECK(alice.next("ack")["seq"] == round + 1);
    alice.send(msg::cmd_leave{"", "r"});
    alice.next("ok");
    std::this_thread::sleep_for(std::chrono::milliseconds(round % 2 == 0 ? 80 : 25));
  }
}

TEST_CASE("a room message is serialized once: every member gets the same bytes") {
  test::temp_dir dir;
  node n{dir.path()};
  client alice{n.sys, n.handles, "alice"};
  client bob{n.sys, n.handles, "bob"};
  client carol{n.sys, n.handles, "carol"};
  join_all("r", {&alice, &bob, &carol});
  alice.next("member");
  alice.next("member");
  bob.next("member");
  bob.keep_raw();
  carol.keep_raw();
  alice.send(send_cmd("r", "shared"));
  auto fb = bob.next_raw();
  auto fc = carol.next_raw();
  CHECK_MESSAGE(json::parse(fb.json())["id"] == "shared", fb.json());
  // Not equal copies: the very same buffer.
  CHECK(fb.ws_bytes().data() == fc.ws_bytes().data());
}

TEST_CASE("group commit: appends that arrive together share one WriteBatch") {
  test::temp_dir dir;
  node n{dir.path()};
  constexpr int rooms = 40;
  constexpr int per_room = 25;
  std::vector<std::unique_ptr<client>> clients;
  for (int i = 0; i < rooms; ++i) {
    clients.push_back(std::make_unique<client>(n.sys, n.handles, "u" + std::to_string(i)));
    clients.back()->send(msg::cmd_join{"", "room" + std::to_string(i), false, 0});
    clients.back()->next("joined");
  }
  for (int k = 0; k < per_room; ++k)
    for (int i = 0; i < rooms; ++i)
      clients[i]->send(send_cmd("room" + std::to_string(i), "m" + std::to_string(k)));
  for (auto& c : clients)
    for (int k = 0; k < per_room; ++k)
      CHECK(c->next("ack")["seq"] == k + 1);
  caf::scoped_actor self{n.sys};
  msg::store_stats stats;
  self->request(n.handles.store, caf::infinite, msg::stats_atom::value)
    .receive(
      [&](msg::store_stats& s) {
        stats = s;
      },
      [](caf::error&) {
        FAIL("no stats");
      });
  // 1,000 messages; each room has one append in flight, so they arrive in batches.
  CHECK(stats.appends < rooms * per_room);
  CHECK(stats.commits < stats.appends);
  MESSAGE("1000 sends -> " << stats.appends << " room appends in " << stats.commits
                           << " commits");
}

TEST_CASE("read receipts only move forward, are broadcast, and come back in joined") {
  test::temp_dir dir;
  {
    node n{dir.path()};
    client alice{n.sys, n.handles, "alice"};
    client bob{n.sys, n.handles, "bob"};
    alice.send(msg::cmd_join{"", "r", false, 0});
    alice.next("joined");
    bob.send(msg::cmd_join{"", "r", false, 0});
    bob.next("joined");
    for (int i = 1; i <= 5; ++i)
      alice.send(send_cmd("r", std::to_string(i)));
    for (int i = 1; i <= 5; ++i)
      alice.next("ack");
    bob.send(msg::cmd_read{"1", "r", 3});
    CHECK(bob.next("ok")["ref"] == 1);
    auto read = alice.next("read");
    CHECK(read["user"] == "bob");
    CHECK(read["seq"] == 3);
    bob.send(msg::cmd_read{"2", "r", 2}); // backwards: ignored, still ok
    CHECK(bob.next("ok")["ref"] == 2);
    bob.send(msg::cmd_read{"3", "r", 6}); // beyond the last seq
    auto err = bob.next("error");
    CHECK(err["code"] == "bad_request");
    CHECK(err["ref"] == 3);
    bob.send(msg::cmd_read{"4", "r", 5});
    bob.next("ok");
    CHECK(alice.next("read")["seq"] == 5);
    alice.send(msg::cmd_read{"", "other-room", 1});
    CHECK(alice.next("error")["code"] == "not_joined");
  }
  node n{dir.path()}; // a restart: receipts come from the store
  client bob{n.sys, n.handles, "bob"};
  bob.send(msg::cmd_join{"", "r", false, 0});
  auto joined = bob.next("joined");
  INFO(joined.dump());
  CHECK(joined["receipts"]["bob"] == 5);
  CHECK_FALSE(joined["receipts"].contains("alice"));
}

TEST_CASE("signal reaches every connection of the target in the room") {
  test::temp_dir dir;
  node n{dir.path()};
  client alice{n.sys, n.handles, "alice"};
  client bob1{n.sys, n.handles, "bob"};
  client bob2{n.sys, n.handles, "bob"};
  client carol{n.sys, n.handles, "carol"};
  join_all("call", {&alice, &bob1, &bob2});
  alice.send(msg::cmd_signal{"", "call", "bob", R"({"type":"offer","sdp":"v=0"})"});
  for (auto* b : {&bob1, &bob2}) {
    auto s = b->next("signal");
    CHECK(s["from"] == "alice");
    CHECK(s["data"]["type"] == "offer");
  }
  alice.send(msg::cmd_signal{"\"x\"", "call", "carol", "{}"});
  auto err = alice.next("error");
  CHECK(err["code"] == "not_found");
  CHECK(err["ref"] == "x");
  carol.send(msg::cmd_signal{"", "call", "bob", "{}"});
  CHECK(carol.next("error")["code"] == "not_joined");
}

TEST_CASE("typing is throttled to one per user per room per second") {
  test::temp_dir dir;
  node n{dir.path()};
  client alice{n.sys, n.handles, "alice"};
  client bob{n.sys, n.handles, "bob"};
  join_all("r", {&alice, &bob});
  for (int i = 0; i < 10; ++i)
    alice.send(msg::cmd_typing{"", "r"});
  CHECK(bob.next("typing")["user"] == "alice");
  CHECK(bob.quiet(300ms)); // the other nine were dropped silently
  std::this_thread::sleep_for(800ms);
  alice.send(msg::cmd_typing{"", "r"});
  CHECK(bob.next("typing")["user"] == "alice");
}

TEST_CASE("presence: watchers see a user with two devices go online once and offline once") {
  test::temp_dir dir;
  node n{dir.path()};
  client watcher{n.sys, n.handles, "watcher"};
  watcher.send(msg::cmd_presence{"1", {"bob", "carol"}});
  auto state = watcher.next("presence_state");
  CHECK(state["ref"] == 1);
  CHECK(state["users"]["bob"] == "offline");
  CHECK(state["users"]["carol"] == "offline");
  {
    client bob1{n.sys, n.handles, "bob"};
    auto on = watcher.next("presence");
    CHECK(on["user"] == "bob");
    CHECK(on["status"] == "online");
    {
      client bob2{n.sys, n.handles, "bob"};
      std::this_thread::sleep_for(400ms); // longer than the coalescing window
    }
    CHECK(watcher.quiet(400ms)); // one device left: still online, nothing published
  }
  auto off = watcher.next("presence");
  CHECK(off["status"] == "offline");
  CHECK(off["last_seen"].get<int64_t>() > 0);
  // A new watch list replaces the old one.
  watcher.send(msg::cmd_presence{"2", {"carol"}});
  CHECK(watcher.next("presence_state")["users"].size() == 1);
  client bob{n.sys, n.handles, "bob"};
  CHECK(watcher.quiet(400ms));
}

TEST_CASE(
  "presence: users share the node's shards; an idle user is forgotten, its last-seen kept") {
  test::temp_dir dir;
  node n{dir.path(), 200ms}; // offline and unwatched users are forgotten after 200 ms
  auto held = [&] {
    return n.handles.metrics->presence_users.load();
  };
  constexpr size_t users = 40; // more users than shards
  {
    std::vector<std::unique_ptr<client>> devices;
    for (size_t i = 0; i < users; ++i)
      devices.push_back(std::make_unique<client>(n.sys, n.handles, "idle" + std::to_string(i)));
    CHECK(test::eventually([&] {
      return held() == users;
    }));
    std::this_thread::sleep_for(20ms); // last seen strictly after
  }
  // Offline: held until the idle time and the next sweep (1 s at the default TTL).
  CHECK(held() == users);
  CHECK(test::eventually(
    [&] {
      return held() == 0;
    },
    5s));
  client watcher{n.sys, n.handles, "w"};
  watcher.send(msg::cmd_presence{"1", {"idle7"}});
  auto state = watcher.next("presence_state");
  CHECK(state["users"]["idle7"] == "offline");
  CHECK(state["last_seen"]["idle7"].get<int64_t>() > 0); // from the store
  CHECK(test::eventually([&] {
    return held() == 2;
  })); // "w" and the watched "idle7"
}

TEST_CASE("a request to a connection actor is answered, never left waiting") {
  test::temp_dir dir;
  node n{dir.path()};
  client alice{n.sys, n.handles, "alice"};
  caf::scoped_actor self{n.sys};
  // A command: executed (its reply goes to the outbox) and the request gets an
  // empty answer.
  bool answered = false;
  self->request(alice.actor(), 2s, msg::cmd_join{"", "r", false, 0})
    .receive(
      [&] {
        answered = true;
      },
      [&](caf::error& err) {
        FAIL(n.sys.render(err));
      });
  CHECK(answered);
  alice.next("joined");
  // A message no connection understands: an error, not a timeout.
  caf::error err;
  self->request(alice.actor(), 2s, std::string{"nonsense"})
    .receive(
      [] {
        FAIL("answered");
      },
      [&](caf::error& e) {
        err = e;
      });
  CHECK(err == caf::sec::unexpected_message);
}
