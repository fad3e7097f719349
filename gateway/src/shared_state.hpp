#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>

#include "chat/actors/node.hpp"
#include "chat/gateway/server.hpp"
#include "rate_limiter.hpp"

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace chat::gateway {

class websocket_session;

/// What every session of one server shares: the actor system, the node's
/// actors, the options, and the registry of live WebSocket sessions (for the
/// 1001 close at shutdown).
struct shared_state {
  shared_state(caf::actor_system& s, actors::node_handles n, server_options o) :
    sys(s), node(std::move(n)), opts(std::move(o)), user_commands(opts.command_rate),
    connects(opts.connect_rate) {}

  caf::actor_system& sys;
  actors::node_handles node;
  server_options opts;
  std::atomic<bool> accepting{true};
  rate_limiter user_commands; ///< per user, across the user's connections
  rate_limiter connects;      ///< new connections per client IP
  /// Set when the node serves HTTPS/WSS (--tls-cert/--tls-key).
  std::shared_ptr<boost::asio::ssl::context> tls;

  void add(websocket_session* key, std::weak_ptr<websocket_session> s) {
    std::lock_guard<std::mutex> guard{mtx_};
    sessions_.emplace(key, std::move(s));
  }

  void remove(websocket_session* key) {
    std::lock_guard<std::mutex> guard{mtx_};
    sessions_.erase(key);
  }

  std::vector<std::shared_ptr<websocket_session>> live_sessions() {
    std::vector<std::shared_ptr<websocket_session>> out;
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [key, weak] : sessions_)
      if (auto s = weak.lock())
        out.push_back(std::move(s));
    return out;
  }

  /// Reserves one of the `max_connections` WebSocket slots; false when full.
  bool reserve_slot() {
    auto n = slots_.load();
    do {
      if (n >= opts.max_connections)
        return false;
    } while (!slots_.compare_exchange_weak(n, n + 1));
    return true;
  }

  void release_slot() { --slots_; }

  size_t session_count() {
    std::lock_guard<std::mutex> guard{mtx_};
    return sessions_.size();
  }

private:
  std::atomic<size_t> slots_{0};
  std::mutex mtx_;
  std::unordered_map<websocket_session*, std::weak_ptr<websocket_session>> sessions_;
};

} // namespace chat::gateway
