#include <doctest/doctest.h>

#include "chat/actors/events.hpp"
#include "chat/actors/outbox.hpp"

using namespace chat::actors;

TEST_CASE("frames carry a WebSocket header in front of the shared JSON") {
  auto small = ok_event("");
  CHECK(small.json() == R"({"type":"ok"})");
  auto ws = small.ws_bytes();
  CHECK(static_cast<unsigned char>(ws[0]) == 0x81);
  CHECK(static_cast<unsigned char>(ws[1]) == small.json().size());
  CHECK(ws.substr(2) == small.json());
  json_writer w;
  w.key("body").str(std::string(300, 'x'));
  auto mid = w.finish();
  CHECK(static_cast<unsigned char>(mid.ws_bytes()[1]) == 126);
  CHECK(mid.ws_bytes().size() == mid.json().size() + 4);
  json_writer w2;
  w2.key("body").str(std::string(70000, 'x'));
  auto big = w2.finish();
  CHECK(static_cast<unsigned char>(big.ws_bytes()[1]) == 127);
  CHECK(big.ws_bytes().size() == big.json().size() + 10);
}

TEST_CASE("strings are escaped, refs echoed verbatim") {
  auto f = error_event("\"r-1\"", wire_error::bad_request, "quote \" slash \\ nl \n ctl \x01");
  CHECK(
    f.json()
    == R"({"type":"error","ref":"r-1","code":"bad_request","message":"quote \" slash \\ nl \n ctl \u0001"})");
  CHECK(pong_event("42").json() == R"({"type":"pong","ref":42})");
}

TEST_CASE("the outbox wakes once per burst and bounds its bytes") {
  int wakes = 0;
  outbox out{100};
  out.set_waker([&] {
    ++wakes;
  });
  auto f = ok_event(""); // 13 bytes of JSON + 2 of header
  CHECK(out.push(f, frame_kind::stored));
  CHECK(out.push(f, frame_kind::stored));
  CHECK(wakes == 1);
  std::vector<frame> got;
  CHECK(out.take(got));
  CHECK(got.size() == 2);
  CHECK(out.queued_bytes() == 2 * f.size());
  out.release(2 * f.size());
  CHECK(out.queued_bytes() == 0);
  CHECK(out.push(f, frame_kind::stored));
  CHECK(wakes == 2);
}

TEST_CASE("the outbox holds its consumer weakly: a consumer that is gone is not woken") {
  struct consumer final : outbox_waker {
    void wake() override { ++wakes; }
    int wakes = 0;
  };
  outbox out{1000};
  auto c = std::make_shared<consumer>();
  out.set_waker(std::weak_ptr<outbox_waker>{c});
  auto f = ok_event("");
  CHECK(out.push(f, frame_kind::stored));
  CHECK(c->wakes == 1);
  CHECK(c.use_count() == 1); // not kept alive by the outbox
  std::vector<frame> got;
  out.take(got);
  std::weak_ptr<consumer> gone = c;
  c.reset();
  CHECK(gone.expired());
  CHECK(out.push(f, frame_kind::stored)); // queued; nobody to wake, no crash
}

TEST_CASE("overflow drops ephemeral frames first, then marks the outbox overflowed") {
  auto metrics = std::make_shared<node_metrics>();
  outbox out{40, metrics};
  auto f = ok_event(""); // 15 bytes
  CHECK(out.push(f, frame_kind::stored));
  CHECK(out.push(f, frame_kind::stored));
  CHECK_FALSE(out.push(f, frame_kind::ephemeral)); // dropped, not fatal
  CHECK(metrics->outbox_drops == 1);
  CHECK(metrics->slow_consumers == 0);
  std::vector<frame> got;
  CHECK(out.take(got));
  CHECK_FALSE(out.push(f, frame_kind::stored)); // still 30 bytes unreleased
  CHECK_FALSE(out.take(got));                   // overflowed: the session closes 1013
  CHECK_FALSE(out.push(f, frame_kind::reply));
  CHECK_FALSE(out.push(f, frame_kind::ephemeral)); // the connection is closing: not a drop
  CHECK(metrics->slow_consumers == 1);
  CHECK(metrics->outbox_drops == 1);
}

TEST_CASE("a closed outbox accepts nothing") {
  outbox out{1000};
  out.close();
  CHECK_FALSE(out.push(ok_event(""), frame_kind::reply));
}

TEST_CASE("a single frame larger than the bound passes an empty queue") {
  outbox out{10};
  json_writer w;
  w.key("body").str(std::string(100, 'x'));
  auto big = w.finish();
  CHECK(out.push(big, frame_kind::reply));
  CHECK_FALSE(out.push(ok_event(""), frame_kind::ephemeral));
  std::vector<frame> got;
  CHECK(out.take(got));
  CHECK(got.size() == 1);
}

TEST_CASE("wake_when_done: a paused consumer is held and woken once enough commands are done") {
  struct consumer final : outbox_waker {
    explicit consumer(int& wakes) : wakes(wakes) {}
    void wake() override { ++wakes; }
    int& wakes;
  };
  int wakes = 0;
  outbox box{1024};
  auto c = std::make_shared<consumer>(wakes);
  std::weak_ptr<consumer> alive = c;
  box.set_waker(std::weak_ptr<outbox_waker>{c});
  box.command_done();                    // 1 done
  CHECK_FALSE(box.wake_when_done(1, c)); // already there: nothing arranged
  CHECK(box.wake_when_done(3, c));
  c.reset(); // only the outbox holds the consumer now
  CHECK_FALSE(alive.expired());
  box.command_done();
  CHECK(wakes == 0);
  box.command_done(); // 3 done: woken once, and let go
  CHECK(wakes == 1);
  CHECK(alive.expired());
  box.command_done();
  CHECK(wakes == 1);
  // Closing lets a held consumer go too, after waking it (a real consumer's
  // wake keeps it alive on its own thread, where it sees the outbox closed).
  auto d = std::make_shared<consumer>(wakes);
  alive = d;
  box.set_waker(std::weak_ptr<outbox_waker>{d});
  CHECK(box.wake_when_done(10, d));
  d.reset();
  box.close();
  CHECK(wakes == 2);
  CHECK(box.closed());
  CHECK(alive.expired());
}

TEST_CASE(
  "resume_when_room: producers waiting for room resume once the consumer wrote enough") {
  outbox out{100};
  auto f = ok_event("");
  auto size = f.size();
  CHECK_FALSE(out.resume_when_room(size, [] {
    FAIL("called with room to spare");
  }));
  auto k = 100 / size; // frames that fit; one more does not
  REQUIRE(k >= 3);
  for (size_t i = 0; i < k; ++i)
    REQUIRE(out.push(f, frame_kind::stored));
  REQUIRE_FALSE(out.has_room(size));
  int a = 0, b = 0;
  CHECK(out.resume_when_room(size, [&] {
    ++a;
  })); // two rooms' replays
  CHECK(out.resume_when_room(size * 3, [&] {
    ++b;
  }));
  std::vector<frame> taken;
  out.take(taken);
  out.release(size); // room for one frame, not for three
  CHECK(a == 1);
  CHECK(b == 0);
  out.release(size);
  CHECK(b == 0);
  out.release(size);
  CHECK(b == 1);
  out.release(size);
  CHECK((a == 1 && b == 1)); // once each
  CHECK(out.resume_when_room(size * k, [&] {
    ++a;
  }));
  out.close();
  out.release(size);
  CHECK(a == 1); // dropped by close, never called
  CHECK_FALSE(out.resume_when_room(1, [] {}));
}

TEST_CASE("resume_when_room is bounded: past the bound the oldest waiter is called at once") {
  outbox out{100};
  auto f = ok_event("");
  while (out.has_room(f.size()))
    REQUIRE(out.push(f, frame_kind::stored));
  std::vector<int> called(outbox::max_resume_waiters + 2, 0);
  for (size_t i = 0; i < called.size(); ++i)
    CHECK(out.resume_when_room(f.size(), [&called, i] {
      ++called[i];
    }));
  CHECK(called[0] == 1); // pushed out by the last two
  CHECK(called[1] == 1);
  CHECK(called[2] == 0);
  std::vector<frame> taken;
  out.take(taken);
  out.release(out.queued_bytes());
  for (auto n : called)
    CHECK(n == 1); // each once
}
