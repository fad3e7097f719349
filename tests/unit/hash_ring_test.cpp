#include <doctest/doctest.h>

#include <map>

#include "chat/runtime/hash_ring.hpp"

using chat::runtime::hash_ring;

TEST_CASE("the ring: every node agrees, whatever the order it learned the members in") {
  hash_ring a{{"n1", "n2", "n3"}};
  hash_ring b{{"n3", "n1", "n2", "n1"}};
  CHECK(b.nodes() == std::vector<std::string>{"n1", "n2", "n3"});
  for (int i = 0; i < 1000; ++i) {
    auto key = hash_ring::room_key("room-" + std::to_string(i));
    CHECK(a.owner(key) == b.owner(key));
  }
  CHECK(hash_ring{}.owner("room:x").empty());
  CHECK(hash_ring{{"solo"}}.owner("room:x") == "solo");
}

TEST_CASE("the ring spreads keys evenly enough over the nodes") {
  hash_ring ring{{"n1", "n2", "n3"}};
  std::map<std::string, int> count;
  constexpr int keys = 30000;
  for (int i = 0; i < keys; ++i)
    ++count[ring.owner(hash_ring::room_key("r" + std::to_string(i)))];
  REQUIRE(count.size() == 3);
  for (auto& [node, n] : count) {
    CAPTURE(node);
    CHECK(n > keys / 3 * 0.85);
    CHECK(n < keys / 3 * 1.15);
  }
}

TEST_CASE("a node leaving moves only its own keys; owners() lists distinct replicas") {
  hash_ring three{{"n1", "n2", "n3"}};
  hash_ring two{{"n1", "n3"}};
  int moved = 0;
  for (int i = 0; i < 5000; ++i) {
    auto key = hash_ring::user_key("u" + std::to_string(i));
    if (three.owner(key) != "n2")
      CHECK(two.owner(key) == three.owner(key));
    else
      ++moved;
    auto replicas = three.owners(key, 2);
    REQUIRE(replicas.size() == 2);
    CHECK(replicas[0] == three.owner(key));
    CHECK(replicas[0] != replicas[1]);
  }
  CHECK(moved > 0);
  CHECK(three.owners("room:x", 10).size() == 3);
}
