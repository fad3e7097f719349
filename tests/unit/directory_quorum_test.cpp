// What a directory lets this node do, given the views its membership would
// give it (ADR 8): write a room (the take-over quorum), keep a room active,
// remove a member.
#include <doctest/doctest.h>

#include <thread>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actor_config.hpp"
#include "chat/actors/errc.hpp"
#include "chat/actors/node.hpp"
#include "chat/storage/store.hpp"
#include "directory_messages.hpp"
#include "temp_dir.hpp"
#include "test_client.hpp"

using namespace chat;
using namespace std::chrono_literals;

namespace {

// A peer's directory (or membership actor) that never answers: what is
// tested here is decided before any question to it. (One argument: CAF 0.17
// spawns a function without any through a null tuple, which UBSan reports.)
caf::behavior silent(caf::event_based_actor* self, int) {
  self->set_default_handler(caf::drop);
  return {[](msg::shutdown_atom) {}};
}

/// n1, with R = `replication`, and a silent n2 it can be told is up.
struct node_n1 {
  explicit node_n1(uint32_t replication = 2) {
    std::string err;
    auto db = storage::store::open({dir.path(), false}, err);
    REQUIRE_MESSAGE(db, err);
    actors::node_options opts;
    opts.replication = replication;
    node = actors::spawn_node(sys, opts, std::move(db));
  }
  ~node_n1() {
    for (auto& a : {n2, membership})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    actors::stop_node(sys, node);
  }

  /// A view of `members` members in which n1 (and n2 with `with_n2`) is up,
  /// `down` are down, and rooms may have `copies` copies (0: R).
  void view(uint32_t members, bool with_n2, std::vector<std::string> down = {},
            uint32_t copies = 0, uint64_t epoch = 5) {
    msg::cluster_view v;
    v.nodes = {"n1"};
    v.directories = {node.directory};
    if (with_n2) {
      v.nodes.push_back("n2");
      v.directories.push_back(n2);
    }
    v.down = std::move(down);
    v.members = members;
    v.epoch = epoch;
    v.committed = epoch;
    v.copies = copies;
    v.membership = membership;
    caf::anon_send(node.directory, std::move(v));
  }

  /// What n1's directory answers `xs` (a `Reply`): "ok" or the error's text.
  template <class Reply, class... Ts>
  std::string ask(Ts... xs) {
    std::string out;
    caf::scoped_actor self{sys};
    self->request(caf::actor_cast<msg::directory_actor>(node.directory), 5s, std::move(xs)...)
      .receive(
        [&](Reply&) {
          out = "ok";
        },
        [&](caf::error& e) {
          out = (e == actors::errc::room_unavailable ? "unavailable: " : "refused: ")
                + sys.render(e);
        });
    return out;
  }

  test::temp_dir dir;
  caf::actor_system sys{test::actor_config()};
  actors::node_handles node;
  caf::actor n2 = sys.spawn(silent, 0);
  caf::actor membership = sys.spawn(silent, 0);
};

/// n1's answer about writing a room in a cluster of `members` with n1 and n2 up.
std::string write_rights(uint32_t members, uint32_t copies) {
  node_n1 n;
  n.view(members, true, {}, copies);
  return n.ask<msg::room_nodes_of>(msg::replicas_atom::value, std::string{"r"});
}

} // namespace

TEST_CASE("take-over quorum: two of three members up write at R = 2; while rooms may have one "
          "copy (the cluster grew from one member, not every member repaired) they do not") {
  CHECK(write_rights(3, 0) == "ok");
  auto refused = write_rights(3, 1);
  CHECK(refused.rfind("unavailable: ", 0) == 0);
  CHECK(refused.find("3 are needed to write until every member repaired") != std::string::npos);
  // Both members up: one copy or two, the quorum is met.
  CHECK(write_rights(2, 1) == "ok");
  // Five members, two up: not a majority.
  CHECK(write_rights(5, 0).rfind("unavailable: ", 0) == 0);
}

TEST_CASE("a room active on one copy stops once the members count another node that is not up: "
          "it acks nothing more until a take-over can place its copies") {
  node_n1 n;
  n.view(1, false, {}, 0, 1); // the first node of a cluster
  test::client a{n.sys, n.node, "alice"};
  a.send(msg::cmd_join{"\"j\"", "r", false, 0});
  REQUIRE(a.next("joined")["room"] == "r");
  a.send(msg::cmd_send{"\"s1\"", "r", "m1", "{}"});
  CHECK(a.next("ack")["seq"] == 1);
  // A second member joined the log, but this node has not seen it up (yet):
  // the room's one copy no longer meets a take-over quorum of 2 members.
  n.view(2, false, {}, 0, 2);
  std::this_thread::sleep_for(
    300ms); // the room stops after the view (a send could overtake it)
  a.send(msg::cmd_send{"\"s2\"", "r", "m2", "{}"});
  auto reply = a.next();
  while (reply["type"] != "ack" && reply["type"] != "error")
    reply = a.next();
  // Before 2026-12-02 the room kept acking on its one copy (seq 2).
  CHECK(reply["type"] == "error");
  CHECK(reply["code"] == "unavailable");
}

TEST_CASE("removing a member: refused while another member is down, with R = 1, or while rooms "
          "written when the cluster was smaller are not repaired everywhere") {
  auto removal = [](uint32_t replication, std::vector<std::string> down, uint32_t copies) {
    node_n1 n{replication};
    auto members = static_cast<uint32_t>(2 + down.size());
    n.view(members, true, std::move(down), copies);
    return n.ask<actors::frame>(msg::remove_atom::value, std::string{"n3"});
  };
  CHECK(removal(2, {"n3", "n4"}, 0).find("more than one member is down") != std::string::npos);
  CHECK(removal(1, {"n3"}, 0).find("no other copy") != std::string::npos);
  CHECK(removal(2, {"n3"}, 1).find("not yet repaired on every member") != std::string::npos);
  CHECK(removal(2, {"n4"}, 0).find("no member 'n3'") != std::string::npos);
}

TEST_CASE(
  "a member being removed is fenced: back up, no room is placed on it until the removal "
  "ends; one removal at a time") {
  node_n1 n;
  auto n3 = n.sys.spawn(silent, 0);
  auto view = [&](bool n3_up) {
    msg::cluster_view v;
    v.nodes = {"n1", "n2"};
    v.directories = {n.node.directory, n.n2};
    if (n3_up) {
      v.nodes.push_back("n3");
      v.directories.push_back(n3);
    } else {
      v.down = {"n3"};
    }
    v.members = 3;
    v.epoch = v.committed = 5;
    v.membership = n.membership;
    caf::anon_send(n.node.directory, std::move(v));
  };
  // The nodes each room is written to, over 60 rooms: n3 among them or not.
  auto n3_keeps_rooms = [&] {
    bool any = false;
    for (int i = 0; i < 60; ++i) {
      caf::scoped_actor self{n.sys};
      self
        ->request(caf::actor_cast<msg::directory_actor>(n.node.directory), 5s,
                  msg::replicas_atom::value, "room" + std::to_string(i))
        .receive(
          [&](msg::room_nodes_of& x) {
            for (auto& id : x.replica_ids)
              any = any || id == "n3";
          },
          [](caf::error&) {});
    }
    return any;
  };
  view(true);
  CHECK(n.ask<bool>(msg::gone_atom::value, std::string{"n3"}) == "ok"); // up: answers false
  CHECK(n3_keeps_rooms());
  view(false);
  caf::scoped_actor self{n.sys};
  auto dir = caf::actor_cast<msg::directory_actor>(n.node.directory);
  bool down = false;
  self->request(dir, 5s, msg::gone_atom::value, std::string{"n3"})
    .receive(
      [&](bool b) {
        down = b;
      },
      [](caf::error&) {});
  REQUIRE(down); // fenced from now on
  view(true);    // n3 is back
  CHECK_FALSE(n3_keeps_rooms());
  CHECK(n.ask<bool>(msg::gone_atom::value, std::string{"n2"}).find("one removal at a time")
        != std::string::npos);
  CHECK(n.ask<bool>(msg::gone_atom::value, std::string{"n3"}, false) == "ok"); // ended
  CHECK(n3_keeps_rooms());
  caf::anon_send_exit(n3, caf::exit_reason::user_shutdown);
}
