// The actor <-> socket bridge under real threads, without an actor system, so
// that ThreadSanitizer sees every synchronisation (Debian's libcaf is not built
// with TSan, which makes its message hand-offs invisible to it). Producers play
// the rooms and connection actors; the consumer plays the session's strand.

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <thread>
#include <vector>

#include "chat/actors/events.hpp"
#include "chat/actors/outbox.hpp"

using namespace chat::actors;

TEST_CASE("many producers, one draining consumer: every frame once, bytes balanced") {
  constexpr int producers = 4;
  constexpr int per_producer = 5000;
  outbox out{64 << 20};
  std::mutex mtx;
  std::condition_variable cv;
  bool woken = false;
  out.set_waker([&] {
    std::lock_guard<std::mutex> guard{mtx};
    woken = true;
    cv.notify_one();
  });
  // One shared frame per "message", as a room fans out.
  std::vector<frame> frames;
  for (int i = 0; i < per_producer; ++i)
    frames.push_back(pong_event(std::to_string(i)));
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p)
    threads.emplace_back([&] {
      for (auto& f : frames) {
        REQUIRE(out.push(f, frame_kind::stored));
        out.command_done();
      }
    });
  size_t received = 0;
  std::vector<frame> batch;
  while (received < size_t{producers} * per_producer) {
    {
      std::unique_lock<std::mutex> lock{mtx};
      cv.wait_for(lock, std::chrono::milliseconds(10), [&] {
        return woken;
      });
      woken = false;
    }
    batch.clear();
    REQUIRE(out.take(batch));
    size_t bytes = 0;
    for (auto& f : batch)
      bytes += f.size();
    received += batch.size();
    out.release(bytes);
  }
  for (auto& t : threads)
    t.join();
  CHECK(received == size_t{producers} * per_producer);
  CHECK(out.queued_bytes() == 0);
  CHECK(out.commands_done() == uint64_t{producers} * per_producer);
}

TEST_CASE("closing while producers push: no frame is accepted afterwards") {
  outbox out{1 << 20};
  out.set_waker([] {});
  std::atomic<bool> closed{false};
  std::atomic<int> after_close{0};
  std::vector<std::thread> threads;
  auto f = ok_event("");
  for (int p = 0; p < 3; ++p)
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        bool was_closed = closed.load();
        if (out.push(f, frame_kind::ephemeral) && was_closed)
          ++after_close;
      }
    });
  std::vector<frame> batch;
  for (int i = 0; i < 100; ++i) {
    batch.clear();
    (void)out.take(batch);
    out.release(batch.size() * f.size());
  }
  out.close();
  closed = true;
  for (auto& t : threads)
    t.join();
  CHECK(after_close == 0);
}
