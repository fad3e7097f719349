#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "chat/actors/node.hpp"
#include "chat/gateway/auth.hpp"
#include "chat/runtime/connection_limits.hpp"
#include "chat/runtime/endpoint.hpp"
#include "chat/runtime/rate_limit.hpp"

namespace chat::gateway {

struct server_options {
  /// Listen address; port 0 picks a free port (see `local_endpoint`).
  runtime::endpoint http{"127.0.0.1", 8080};
  /// Who may connect: JWT verification and/or dev-mode users. Required.
  std::shared_ptr<const authenticator> auth;
  /// WebSocket ping interval; two missed pongs close the peer. Default: 20000.
  uint32_t heartbeat_ms = 20000;
  /// Commands per second per connection and per user. Default: 50:100.
  runtime::rate_limit command_rate{50, 100};
  /// New connections per second per client IP. Default: 100:200.
  runtime::rate_limit connect_rate{100, 200};
  /// What clients may hold open: connections, sockets, streams per user and
  /// address, unauthenticated sockets. Default: 50000 connections.
  runtime::connection_limits limits;
  /// Bound of each connection's outbound queue. Default: 1 MiB.
  size_t outbound_queue_bytes = 1 << 20;
  /// Largest WebSocket message accepted (close 1009 above). Default: 128 KiB.
  size_t max_frame_bytes = 128 * 1024;
  /// An HTTP request must arrive within this. Default: 10 s.
  std::chrono::milliseconds request_timeout{10000};
  /// Browser origins allowed to open WebSockets; empty = any.
  std::vector<std::string> allowed_origins;
  /// PEM certificate chain and private key: serve HTTPS and WSS on the same
  /// port. Default: none (plain HTTP).
  std::string tls_cert_file;
  std::string tls_key_file;
  /// Threads running the io_context. Default: 1.
  uint32_t io_threads = 1;
  /// `POST /debug/faults`: the JSON body in; true with a JSON reply, or false
  /// with a one-line reason (400). Unset (every node but `chatd
  /// --fault-injection`): the endpoint does not exist (404).
  std::function<bool(const std::string& body, std::string& reply)> fault_control;
};

/// The HTTP/WebSocket front door of a node (Beast). It parses and validates what
/// clients send and hands commands to connection actors; it has no chat logic.
class server {
public:
  server(caf::actor_system& sys, actors::node_handles node, server_options opts);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts the io threads. On failure returns false with a one-line reason.
  [[nodiscard]] bool start(std::string& error);

  /// Where the server actually listens (after start).
  [[nodiscard]] runtime::endpoint local_endpoint() const;

  /// Stops accepting, closes every WebSocket with 1001, and joins the io threads.
  void stop();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace chat::gateway
