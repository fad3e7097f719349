#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <caf/actor_system.hpp>

#include "chat/actors/node.hpp"
#include "chat/gateway/server.hpp"
#include "command_counts.hpp"
#include "connection_index.hpp"
#include "keyed_limit.hpp"
#include "rate_limiter.hpp"

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace chat::gateway {

class stream_session;

/// What every session of one server shares: the actor system, the node's
/// actors, the options, the index of live connections (closed at shutdown,
/// listed by the admin API) and the SSE/poll streams (found by id from POST
/// /rpc and GET /poll).
struct shared_state {
  shared_state(caf::actor_system& s, actors::node_handles n, server_options o) :
    sys(s), node(std::move(n)), opts(std::move(o)), user_commands(opts.command_rate),
    connects(opts.connect_rate), streams_per_user(opts.limits.max_streams_per_user),
    streams_per_ip(opts.limits.max_streams_per_ip),
    unauthenticated(opts.limits.max_unauthenticated),
    unauthenticated_per_ip(opts.limits.max_unauthenticated_per_ip),
    sockets(opts.limits.sockets()),
    connections(std::make_shared<connection_index>(node.metrics)),
    max_connections_(opts.limits.connections()) {}

  caf::actor_system& sys;
  actors::node_handles node;
  server_options opts;
  std::atomic<bool> accepting{true};
  rate_limiter user_commands;   ///< per user, across the user's connections
  command_counts commands;      ///< client commands by type and gate result (/metrics)
  rate_limiter connects;        ///< new connections (and further requests on one) per client IP
  keyed_limit streams_per_user; ///< open SSE/poll streams per user
  keyed_limit streams_per_ip;   ///< open SSE/poll streams per client IP
  counted_limit unauthenticated;                 ///< WebSockets waiting for `auth`
  keyed_limit unauthenticated_per_ip;            ///< the same per client IP
  counted_limit sockets;                         ///< open sockets (HTTP, WebSocket, SSE)
  std::shared_ptr<connection_index> connections; ///< live client connections
  /// Set when the node serves HTTPS/WSS (--tls-cert/--tls-key).
  std::shared_ptr<boost::asio::ssl::context> tls;
  /// The io_context's executor (for objects that outlive one socket: poll streams).
  boost::asio::any_io_executor io;

  /// Makes a stream findable by its id (see `find_stream`).
  void add_stream(const std::string& id, std::weak_ptr<stream_session> s) {
    std::lock_guard<std::mutex> guard{mtx_};
    streams_.emplace(id, std::move(s));
  }

  void remove_stream(const std::string& id) {
    std::lock_guard<std::mutex> guard{mtx_};
    streams_.erase(id);
  }

  std::shared_ptr<stream_session> find_stream(const std::string& id) {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = streams_.find(id);
    return i == streams_.end() ? nullptr : i->second.lock();
  }

  /// Reserves one of the `max_connections` slots (WebSockets, SSE and poll
  /// streams); false when full.
  bool reserve_slot() {
    auto n = slots_.load();
    do {
      if (n >= max_connections_)
        return false;
    } while (!slots_.compare_exchange_weak(n, n + 1));
    return true;
  }

  void release_slot() { --slots_; }

private:
  size_t max_connections_;
  std::atomic<size_t> slots_{0};
  std::mutex mtx_;
  std::unordered_map<std::string, std::weak_ptr<stream_session>> streams_;
};

} // namespace chat::gateway
