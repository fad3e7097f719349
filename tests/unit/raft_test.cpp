// The membership log's Raft server (cluster/src/raft_node.*): canonical/raft
// over this project's disk and a simulated network, on a simulated clock, so
// that every schedule is exact and fast. The same class runs inside each
// node's membership actor with CAF messages as its network.

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <tuple>

#include "raft_node.hpp"
#include "temp_dir.hpp"

using namespace chat::cluster;
using chat::test::temp_dir;

namespace {

/// Servers on one simulated network: messages wait in a queue until `run`
/// moves the clock; cut pairs lose what they send each other.
struct sim {
  struct server {
    std::unique_ptr<temp_dir> dir = std::make_unique<temp_dir>();
    std::unique_ptr<raft_node> node;
    std::vector<std::string> applied;
  };
  std::map<std::string, server> servers; // by address
  std::map<raft_id, std::string> address_of;
  std::deque<std::tuple<std::string, raft_id, raft_wire::bytes>> queue;
  std::set<std::pair<std::string, std::string>> cut;
  uint64_t now = 1'000'000;
  uint64_t seed = 1;

  raft_node& open(const std::string& address, bool bootstrap = false) {
    auto& s = servers[address];
    raft_node::settings settings;
    settings.dir = s.dir->path();
    settings.address = address;
    settings.seed = seed++;
    settings.send = [this, address](raft_id to, raft_wire::bytes b) {
      queue.emplace_back(address, to, std::move(b));
    };
    settings.apply = [&s](const std::string& cmd) {
      s.applied.push_back(cmd);
    };
    s.applied.clear(); // a restarted server applies its log again
    s.node = std::make_unique<raft_node>(settings);
    address_of[s.node->id()] = address;
    if (bootstrap)
      CHECK(s.node->bootstrap());
    s.node->start(now);
    return *s.node;
  }

  void crash(const std::string& address) { servers[address].node.reset(); }

  void isolate(const std::string& address, bool on) {
    for (auto& [other, _] : servers) {
      if (on) {
        cut.insert({address, other});
        cut.insert({other, address});
      } else {
        cut.erase({address, other});
        cut.erase({other, address});
      }
    }
  }

  void run(uint64_t ms) {
    for (uint64_t t = 0; t < ms; t += 10) {
      now += 10;
      for (auto& [_, s] : servers)
        if (s.node)
          s.node->advance(now);
      for (size_t n = queue.size(); n > 0; --n) {
        auto [from, to, bytes] = std::move(queue.front());
        queue.pop_front();
        auto& dest = address_of[to];
        auto it = servers.find(dest);
        if (it != servers.end() && it->second.node && !cut.count({from, dest}))
          CHECK(it->second.node->receive(bytes));
      }
    }
  }

  /// a bootstraps; b and c join as voters.
  void three_voters() {
    open("a", true);
    run(100);
    open("b");
    open("c");
    REQUIRE(add_voter("b") == 0);
    REQUIRE(add_voter("c") == 0);
  }

  server* leader() {
    for (auto& [_, s] : servers)
      if (s.node && s.node->leader())
        return &s;
    return nullptr;
  }

  int add_voter(const std::string& address) {
    auto id = servers[address].node->id();
    int status = -1;
    REQUIRE(leader() != nullptr);
    REQUIRE(leader()->node->add_voter(id, address, [&](int s) {
      status = s;
    }));
    for (int i = 0; i < 100 && status == -1; ++i)
      run(100);
    return status;
  }

  int propose(const std::string& cmd) {
    int status = -1;
    auto* l = leader();
    REQUIRE(l != nullptr);
    REQUIRE(l->node->propose(cmd, [&](int s) {
      status = s;
    }));
    for (int i = 0; i < 50 && status == -1; ++i)
      run(100);
    return status;
  }
};

size_t voters(const raft_node& n) {
  size_t count = 0;
  for (auto& s : n.servers())
    count += s.voter ? 1 : 0;
  return count;
}

} // namespace

TEST_CASE("raft: a bootstrapped server leads alone; others join as voters, one at a time") {
  sim c;
  c.open("a", true);
  c.run(100);
  REQUIRE(c.leader() == &c.servers["a"]);
  c.open("b");
  c.open("c");
  CHECK(c.add_voter("b") == 0);
  CHECK(c.add_voter("c") == 0);
  CHECK(c.propose("view 2") == 0);
  c.run(500);
  for (auto& [address, s] : c.servers) {
    INFO(address);
    CHECK(voters(*s.node) == 3);
    CHECK(s.applied == std::vector<std::string>{"view 2"});
    CHECK(s.node->configuration_index() == c.servers["a"].node->configuration_index());
  }
  // Not the leader: nothing is proposed there.
  auto& follower = c.leader() == &c.servers["b"] ? c.servers["c"] : c.servers["b"];
  CHECK_FALSE(follower.node->propose("x", [](int) {}));
}

TEST_CASE("raft: the leader crashes; a majority elects another, and the old one catches up "
          "from its disk when it returns") {
  sim c;
  c.three_voters();
  REQUIRE(c.propose("one") == 0);
  c.crash("a");
  c.run(3000);
  REQUIRE(c.leader() != nullptr);
  CHECK(c.leader() != &c.servers["a"]);
  CHECK(c.propose("two") == 0);
  auto id = c.servers["a"].node ? 0 : 1;
  auto& back = c.open("a"); // the same directory: its id, term, vote and log
  CHECK(id == 1);
  CHECK(c.address_of[back.id()] == "a");
  CHECK(voters(back) == 3); // its log's configuration, before any message
  c.run(2000);
  CHECK(c.servers["a"].applied == std::vector<std::string>{"one", "two"});
  CHECK(voters(*c.servers["a"].node) == 3);
}

TEST_CASE("raft: a server cut off from the majority commits nothing; it follows again after "
          "the partition heals") {
  sim c;
  c.three_voters();
  auto* old = c.leader();
  std::string old_address = old == &c.servers["a"] ? "a" : old == &c.servers["b"] ? "b" : "c";
  c.isolate(old_address, true);
  int stale = -1;
  // The isolated leader may still think it leads: what it appends never commits.
  if (old->node->leader())
    old->node->propose("stale", [&](int s) {
      stale = s;
    });
  c.run(3000);
  raft_node* fresh = nullptr;
  for (auto& [address, s] : c.servers)
    if (address != old_address && s.node->leader())
      fresh = s.node.get();
  REQUIRE(fresh != nullptr);
  int status = -1;
  REQUIRE(fresh->propose("majority", [&](int s) {
    status = s;
  }));
  c.run(1000);
  CHECK(status == 0);
  CHECK(stale != 0);
  c.isolate(old_address, false);
  c.run(3000);
  for (auto& [address, s] : c.servers) {
    INFO(address);
    CHECK(s.applied == std::vector<std::string>{"majority"});
  }
}

TEST_CASE("raft: bytes that are not a message are refused; a damaged state file is named") {
  temp_dir dir;
  raft_node::settings settings;
  settings.dir = dir.path();
  settings.address = "a";
  {
    raft_node n(settings);
    n.start(1);
    CHECK_FALSE(n.receive({}));
    CHECK_FALSE(n.receive({1, 2, 3}));
    raft_wire::bytes junk(64, 0xff);
    CHECK_FALSE(n.receive(junk));
  }
  std::ofstream(dir.path() + "/raft-state") << "not raft";
  CHECK_THROWS_WITH_AS(raft_node{settings}, doctest::Contains("raft-state"),
                       std::runtime_error);
}

TEST_CASE("raft: a server bootstrapped on its own (a first node restarted on a wiped data dir) "
          "is another group: neither side reads the other's messages") {
  sim c;
  c.open("a", true);
  c.run(100);
  c.open("b");
  REQUIRE(c.add_voter("b") == 0);
  auto before = c.servers["a"].node->configuration_index();
  // y leads a group of its own and adds a and b, which drop what it sends.
  auto& y = c.open("y", true);
  c.run(200);
  REQUIRE(y.leader());
  bool added = false;
  y.add_voter(c.servers["a"].node->id(), "a", [&](int s) {
    added = s == 0;
  });
  c.run(3000);
  CHECK(c.servers["a"].node->strangers() > 0);
  CHECK(c.servers["a"].node->configuration_index() == before);
  CHECK(voters(*c.servers["a"].node) == 2);
  CHECK(voters(y) == 1);
  CHECK(c.propose("still") == 0); // a and b go on
}

TEST_CASE("raft: a new leader changes the configuration only once it committed an entry of its "
          "own term") {
  sim c;
  c.three_voters();
  c.crash(c.leader() == &c.servers["a"] ? "a" : c.leader() == &c.servers["b"] ? "b" : "c");
  for (int i = 0; i < 300 && !(c.leader() && c.leader()->node->may_change()); ++i)
    c.run(10);
  REQUIRE(c.leader() != nullptr);
  CHECK(c.leader()->node->may_change());
  CHECK(c.leader()->node->commit_index() == c.leader()->node->configuration_index() + 1);
}
