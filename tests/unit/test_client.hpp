#pragma once

// A test client of the actor layer: a connection actor driven the way the
// gateway drives it (commands in), with the frames that reach its outbox (out).

#include <doctest/doctest.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "chat/actors/node.hpp"

namespace chat::test {

using json = nlohmann::json;
using namespace std::chrono_literals;

/// One test client: a connection actor and the frames that reach its outbox.
class client {
public:
  /// `outbox_bytes`: the bound of its outbox (a session's is 1 MiB by default).
  client(caf::actor_system& sys, const actors::node_handles& node, std::string user,
         size_t outbox_bytes = 64 << 20) :
    out_(std::make_shared<actors::outbox>(outbox_bytes)) {
    // The outbox outlives this client (the connection actor holds it until it
    // has seen `closed`): its waker must not reach into a destroyed client.
    out_->set_waker([cv = cv_] {
      cv->notify_all();
    });
    conn_ = actors::spawn_connection(sys, node, std::move(user), out_);
  }
  ~client() { caf::anon_send(conn_, msg::closed_atom::value); }

  template <class Cmd>
  void send(Cmd cmd) {
    caf::anon_send(conn_, std::move(cmd));
  }

  /// The next frame, waiting up to 10 s.
  json next() { return pop(buffered_); }

  /// The next frame of `type`, skipping others (member events etc.).
  json next(const std::string& type) {
    for (;;) {
      auto j = next();
      if (j["type"] == type)
        return j;
    }
  }

  /// The next frame, or nothing when none arrives within `wait`.
  std::optional<json> try_next(std::chrono::milliseconds wait) {
    std::unique_lock<std::mutex> lock{mtx_};
    auto deadline = std::chrono::steady_clock::now() + wait;
    for (drain(); buffered_.empty(); drain())
      if (cv_->wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + 10ms))
            == std::cv_status::timeout
          && std::chrono::steady_clock::now() >= deadline)
        return std::nullopt;
    auto x = buffered_.front();
    buffered_.pop_front();
    return x;
  }

  /// The next raw frame (not parsed), waiting up to 10 s.
  actors::frame next_raw() { return pop(raw_); }

  /// Keep raw frames instead of parsing them (for identity checks).
  void keep_raw() { keep_raw_ = true; }

  /// True when no frame arrives within `wait`.
  /// The connection actor.
  [[nodiscard]] const caf::actor& actor() const { return conn_; }

  bool quiet(std::chrono::milliseconds wait) {
    std::this_thread::sleep_for(wait);
    std::unique_lock<std::mutex> lock{mtx_};
    drain();
    return buffered_.empty();
  }

private:
  template <class T>
  T pop(std::deque<T>& queue) {
    std::unique_lock<std::mutex> lock{mtx_};
    for (int i = 0; i < 1000 && queue.empty(); ++i) {
      drain();
      if (queue.empty())
        cv_->wait_for(lock, 10ms);
    }
    REQUIRE_MESSAGE(!queue.empty(), "no frame within 10 s");
    auto x = queue.front();
    queue.pop_front();
    return x;
  }

  void drain() {
    std::vector<actors::frame> fs;
    out_->take(fs);
    for (auto& f : fs) {
      if (keep_raw_)
        raw_.push_back(f);
      else
        buffered_.push_back(json::parse(f.json()));
      out_->release(f.size());
    }
  }

  std::shared_ptr<actors::outbox> out_;
  caf::actor conn_;
  std::mutex mtx_;
  std::shared_ptr<std::condition_variable> cv_ = std::make_shared<std::condition_variable>();
  std::deque<json> buffered_;
  std::deque<actors::frame> raw_;
  bool keep_raw_ = false;
};

} // namespace chat::test
