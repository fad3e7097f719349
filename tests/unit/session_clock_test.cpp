// The gateway's session clock on a real io_context: one timer for the
// deadlines of many sessions.

#include <doctest/doctest.h>

#include <functional>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "session_clock.hpp"

using namespace std::chrono_literals;
using chat::gateway::session_clock;

namespace {

struct probe final : session_clock::entry {
  ~probe() { session_clock::remove(*this); }

  void on_deadline(session_clock::time_point now) override {
    calls.push_back(now);
    set_deadline(session_clock::time_point::max());
    if (then)
      then();
  }

  std::vector<session_clock::time_point> calls;
  std::function<void()> then;
};

} // namespace

TEST_CASE("session clock: entries are called once their deadline passed; removed ones never") {
  boost::asio::io_context ioc{1};
  auto& clock = session_clock::of(ioc.get_executor());
  probe once, again, self_removing, removed;
  auto start = std::chrono::steady_clock::now();
  once.set_deadline(start + 40ms);
  again.set_deadline(start + 40ms);
  self_removing.set_deadline(start + 40ms);
  removed.set_deadline(start + 150ms);
  // A heartbeat: each call sets the next deadline.
  again.then = [&] {
    if (again.calls.size() < 3)
      again.set_deadline(std::chrono::steady_clock::now() + 30ms);
  };
  // Removing itself from inside the call (a session that finishes) is allowed.
  self_removing.then = [&] {
    session_clock::remove(self_removing);
  };
  for (auto* p : {&once, &again, &self_removing, &removed})
    clock.add(*p, 10ms);
  boost::asio::steady_timer t{ioc};
  t.expires_after(60ms);
  t.async_wait([&](boost::system::error_code) {
    session_clock::remove(removed);
  });
  ioc.run_for(400ms);
  REQUIRE(once.calls.size() == 1);
  CHECK(once.calls[0] >= start + 40ms);
  CHECK(again.calls.size() == 3);
  CHECK(self_removing.calls.size() == 1);
  CHECK(removed.calls.empty());
}

TEST_CASE(
  "session clock: one clock per io_context; an io_context going away unlinks its entries") {
  probe p;
  {
    boost::asio::io_context a{1};
    boost::asio::io_context b{1};
    CHECK(&session_clock::of(a.get_executor()) == &session_clock::of(a.get_executor()));
    CHECK(&session_clock::of(a.get_executor()) != &session_clock::of(b.get_executor()));
    session_clock::of(a.get_executor()).add(p, 10ms);
  }
  session_clock::remove(p); // a no-op now: the clock is gone
  CHECK(p.calls.empty());
}
