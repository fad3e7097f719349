// The take-over quorum a directory applies (ADR 8), given the views its
// membership would give it: how many members a node must reach to write.
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

msg::cluster_view alone(const actors::node_handles& node, uint32_t members, uint64_t epoch) {
  msg::cluster_view view;
  view.nodes = {"n1"};
  view.directories = {node.directory};
  view.members = members;
  view.epoch = epoch;
  view.committed = epoch;
  return view;
}

// A peer's directory that never answers: the quorum is counted before any
// question is asked.
caf::behavior silent_directory(caf::event_based_actor* self) {
  self->set_default_handler(caf::drop);
  return {[](msg::shutdown_atom) {}};
}

/// n1 of a cluster of `members` (R = 2) whose nodes up are n1 and n2, with
/// `copies` in the view; what n1's directory says about writing `room`.
std::string write_rights(uint32_t members, uint32_t copies) {
  test::temp_dir dir;
  caf::actor_system sys{test::actor_config()};
  std::string err;
  auto db = storage::store::open({dir.path(), false}, err);
  REQUIRE_MESSAGE(db, err);
  actors::node_options opts;
  opts.replication = 2;
  auto node = actors::spawn_node(sys, opts, std::move(db));
  auto n2 = sys.spawn(silent_directory);
  msg::cluster_view view;
  view.nodes = {"n1", "n2"};
  view.directories = {node.directory, n2};
  view.members = members;
  view.epoch = 5;
  view.committed = 5;
  view.copies = copies;
  caf::anon_send(node.directory, std::move(view));
  std::string out;
  caf::scoped_actor self{sys};
  self
    ->request(caf::actor_cast<msg::directory_actor>(node.directory), 5s,
              msg::replicas_atom::value, std::string{"r"})
    .receive(
      [&](msg::room_nodes_of& x) {
        out = "ok: " + std::to_string(x.replicas.size()) + " replica(s)";
      },
      [&](caf::error& e) {
        out = e == actors::errc::room_unavailable ? "unavailable: " + sys.render(e)
                                                  : "other error: " + sys.render(e);
      });
  caf::anon_send_exit(n2, caf::exit_reason::user_shutdown);
  actors::stop_node(sys, node);
  return out;
}

} // namespace

TEST_CASE("take-over quorum: two of three members up write at R = 2; while rooms may have one "
          "copy (the cluster grew from one member, not every member repaired) they do not") {
  CHECK(write_rights(3, 0).rfind("ok: ", 0) == 0);
  auto refused = write_rights(3, 1);
  CHECK(refused.rfind("unavailable: ", 0) == 0);
  CHECK(refused.find("3 are needed to write until every member repaired") != std::string::npos);
  // Both members up: one copy or two, the quorum is met.
  CHECK(write_rights(2, 1).rfind("ok: ", 0) == 0);
  // Five members, two up: not a majority.
  CHECK(write_rights(5, 0).rfind("unavailable: ", 0) == 0);
}

TEST_CASE("a room active on one copy stops once the members count another node that is not up: "
          "it acks nothing more until a take-over can place its copies") {
  test::temp_dir dir;
  caf::actor_system sys{test::actor_config()};
  std::string err;
  auto db = storage::store::open({dir.path(), false}, err);
  REQUIRE_MESSAGE(db, err);
  actors::node_options opts;
  opts.replication = 2;
  auto node = actors::spawn_node(sys, opts, std::move(db));
  {
    caf::anon_send(node.directory, alone(node, 1, 1)); // the first node of a cluster
    test::client a{sys, node, "alice"};
    a.send(msg::cmd_join{"\"j\"", "r", false, 0});
    REQUIRE(a.next("joined")["room"] == "r");
    a.send(msg::cmd_send{"\"s1\"", "r", "m1", "{}"});
    CHECK(a.next("ack")["seq"] == 1);
    // A second member joined the log, but this node has not seen it up (yet):
    // the room's one copy no longer meets a take-over quorum of 2 members.
    caf::anon_send(node.directory, alone(node, 2, 2));
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
  actors::stop_node(sys, node);
}

TEST_CASE("removing a member: refused while another member is down, with R = 1, or while rooms "
          "written when the cluster was smaller are not repaired everywhere") {
  auto refusal = [](uint32_t replication, std::vector<std::string> down, uint32_t copies) {
    test::temp_dir dir;
    caf::actor_system sys{test::actor_config()};
    std::string err;
    auto db = storage::store::open({dir.path(), false}, err);
    REQUIRE_MESSAGE(db, err);
    actors::node_options opts;
    opts.replication = replication;
    auto node = actors::spawn_node(sys, opts, std::move(db));
    auto n2 = sys.spawn(silent_directory);
    auto membership = sys.spawn(silent_directory);
    msg::cluster_view view;
    view.nodes = {"n1", "n2"};
    view.directories = {node.directory, n2};
    view.down = std::move(down);
    view.members = static_cast<uint32_t>(2 + view.down.size());
    view.epoch = 5;
    view.committed = 5;
    view.copies = copies;
    view.membership = membership;
    caf::anon_send(node.directory, std::move(view));
    std::string out = "(not refused)";
    caf::scoped_actor self{sys};
    self
      ->request(caf::actor_cast<msg::directory_actor>(node.directory), 5s,
                msg::remove_atom::value, std::string{"n3"})
      .receive([](actors::frame&) {},
               [&](caf::error& e) {
                 out = sys.render(e);
               });
    for (auto& a : {n2, membership})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    actors::stop_node(sys, node);
    return out;
  };
  CHECK(refusal(2, {"n3", "n4"}, 0).find("more than one member is down") != std::string::npos);
  CHECK(refusal(1, {"n3"}, 0).find("no other copy") != std::string::npos);
  CHECK(refusal(2, {"n3"}, 1).find("not yet repaired on every member") != std::string::npos);
  CHECK(refusal(2, {"n4"}, 0).find("no member 'n3'") != std::string::npos);
}
