#pragma once

// chatd's exit deadline: the process ends a grace period after the store is
// flushed, whatever its actor system still waits for.

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

#include <unistd.h>

namespace chatd {

// Every ack is on disk once the store is flushed. An actor still waiting on a
// peer that vanished (or any actor that does not end) must not keep the
// process alive through the actor system's destructor, which waits for every
// actor: a supervisor restarting the node waits for this exit. Declared before
// the actor system, so that it is destroyed (and its thread let go) after it.
class exit_deadline {
public:
  exit_deadline() = default;
  exit_deadline(const exit_deadline&) = delete;
  exit_deadline& operator=(const exit_deadline&) = delete;
  ~exit_deadline() {
    if (!thread_.joinable())
      return;
    {
      std::lock_guard<std::mutex> lock{mtx_};
      ended_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  void arm(std::chrono::seconds grace, int code) {
    thread_ = std::thread([this, grace, code] {
      std::unique_lock<std::mutex> lock{mtx_};
      if (cv_.wait_for(lock, grace, [this] {
            return ended_;
          }))
        return;
      // Not through the logger: a stuck actor may hold its lock.
      auto line = "chatd: actors still running " + std::to_string(grace.count())
                  + " s after the store was flushed: exiting anyway\n";
      (void)!::write(2, line.data(), line.size());
      std::_Exit(code);
    });
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  bool ended_ = false;
  std::thread thread_;
};

} // namespace chatd
