#include <doctest/doctest.h>

#include "chat/actors/presence_tracker.hpp"

using chat::actors::presence_tracker;
using decision = presence_tracker::decision;

namespace {

presence_tracker make(int64_t ttl = 1000, int64_t coalesce = 100) {
  return presence_tracker{{ttl, coalesce}, 0};
}

} // namespace

TEST_CASE("several devices: online from the first, offline after the last") {
  auto p = make();
  CHECK_FALSE(p.online());
  p.heartbeat(1, 10);
  CHECK(p.online());
  p.heartbeat(2, 20);
  CHECK(p.devices() == 2);
  p.disconnect(1, 30);
  CHECK(p.online());
  p.disconnect(2, 40);
  CHECK_FALSE(p.online());
  CHECK(p.last_seen() == 40);
  p.disconnect(2, 50); // unknown device: nothing changes
  CHECK(p.last_seen() == 40);
}

TEST_CASE("TTL: a device without heartbeat expires; heartbeats keep it") {
  auto p = make(1000);
  p.heartbeat(1, 0);
  p.heartbeat(2, 0);
  CHECK(p.next_expiry() == 1000);
  p.heartbeat(2, 600);
  p.expire(999);
  CHECK(p.devices() == 2);
  p.expire(1000); // device 1 silent for the whole TTL
  CHECK(p.devices() == 1);
  CHECK(p.online());
  CHECK(p.next_expiry() == 1600);
  p.expire(1600);
  CHECK_FALSE(p.online());
  CHECK(p.last_seen() == 600); // when it was last heard of, not when it expired
  CHECK_FALSE(p.next_expiry());
  p.heartbeat(2, 1700); // it comes back
  CHECK(p.online());
}

TEST_CASE("the first change is published at once") {
  auto p = make(1000, 100);
  p.heartbeat(1, 5000);
  auto d = p.changed(5000);
  CHECK(d.what == decision::publish_now);
  CHECK(p.published_online());
  CHECK(p.changed(5001).what == decision::none); // nothing new
}

TEST_CASE("flapping within the window is coalesced into one trailing publication") {
  auto p = make(1000, 100);
  p.heartbeat(1, 0);
  REQUIRE(p.changed(0).what == decision::publish_now); // online
  p.disconnect(1, 10);
  auto d = p.changed(10);
  CHECK(d.what == decision::publish_at);
  CHECK(d.at_ms == 100);
  // More flaps before the window ends: no extra publications.
  for (int64_t t = 20; t < 90; t += 10) {
    if (t % 20 == 0)
      p.heartbeat(1, t);
    else
      p.disconnect(1, t);
    CHECK(p.changed(t).what == decision::none);
  }
  // The burst ended offline: the trailing publication says so, once.
  p.disconnect(1, 95);
  CHECK(p.due(100));
  CHECK_FALSE(p.published_online());
}

TEST_CASE("a flap that ends where it started publishes nothing") {
  auto p = make(1000, 100);
  p.heartbeat(1, 0);
  REQUIRE(p.changed(0).what == decision::publish_now);
  p.disconnect(1, 10);
  REQUIRE(p.changed(10).what == decision::publish_at);
  p.heartbeat(2, 20); // another device: online again
  CHECK(p.changed(20).what == decision::none);
  CHECK_FALSE(p.due(100));
  CHECK(p.published_online());
}

TEST_CASE("after a quiet window the next change is immediate again") {
  auto p = make(1000, 100);
  p.heartbeat(1, 0);
  REQUIRE(p.changed(0).what == decision::publish_now);
  p.disconnect(1, 500);
  CHECK(p.changed(500).what == decision::publish_now);
  CHECK_FALSE(p.published_online());
}

TEST_CASE("last seen starts from the stored value") {
  presence_tracker p{{1000, 100}, 1234};
  CHECK(p.last_seen() == 1234);
  CHECK_FALSE(p.online());
}
