#pragma once

// The node's live client connections (WebSockets, SSE and poll streams): the
// server closes them at shutdown, /metrics counts them by transport, and the
// admin API lists, inspects and closes them (as the actors layer's
// connection_registry). Each entry is a few words in one hash map node: an
// idle connection pays nothing else for being inspectable.

#include <array>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "chat/actors/connection_registry.hpp"
#include "chat/actors/metrics.hpp"

namespace chat::gateway {

/// How a client is connected (the `chat_connections` gauge's label).
enum class client_transport : uint8_t { ws, sse, poll };

inline const char* transport_name(client_transport t) {
  return t == client_transport::ws ? "ws" : t == client_transport::sse ? "sse" : "poll";
}

/// A client connection that outlives one HTTP request.
class live_connection {
public:
  virtual ~live_connection() = default;
  /// Ends the connection (thread-safe); a WebSocket gets a close frame with `code`.
  virtual void close_async(uint16_t code, std::string reason) = 0;
  /// Calls `fill` with its rate-limit tokens and its last sign of life (unix
  /// ms, 0: none yet), on its own thread; drops `fill` when it has ended.
  virtual void describe(std::function<void(double tokens, int64_t last_alive_ms)> fill) = 0;
};

class connection_index : public actors::connection_registry {
public:
  explicit connection_index(std::shared_ptr<actors::node_metrics> metrics) :
    metrics_(std::move(metrics)) {}

  /// A connection opened (a WebSocket before its `auth`: `actor` null, see
  /// `authenticated`). `user` must outlive the entry (the session's identity).
  void add(live_connection* key, std::weak_ptr<live_connection> s, client_transport t,
           const boost::asio::ip::tcp::endpoint& remote, caf::actor actor = {},
           const std::string* user = nullptr);
  /// A WebSocket authenticated: it is listed from now on.
  void authenticated(live_connection* key, caf::actor actor, const std::string* user);
  void remove(live_connection* key);

  /// Live connections of each transport (ws, sse, poll).
  std::array<size_t, 3> by_transport();
  /// Waits until every live connection is gone, or `timeout`; true when gone.
  bool wait_drained(std::chrono::milliseconds timeout);
  std::vector<std::shared_ptr<live_connection>> live();

  // actors::connection_registry
  std::vector<caf::actor> pick(const std::string& user, caf::actor_id after,
                               size_t limit) override;
  void describe(std::vector<caf::actor> actors,
                std::function<void(std::vector<actors::connection_card>)> done) override;
  bool close(caf::actor_id actor) override;

private:
  struct entry {
    std::weak_ptr<live_connection> session;
    caf::actor actor;                  ///< null until authenticated
    const std::string* user = nullptr; ///< the session's, while it lives
    boost::asio::ip::tcp::endpoint remote;
    int64_t opened_at = 0; ///< unix ms
    client_transport how = client_transport::ws;
  };

  std::shared_ptr<actors::node_metrics> metrics_;
  std::mutex mtx_;
  std::condition_variable drained_;
  std::unordered_map<live_connection*, entry> entries_;
  std::array<size_t, 3> by_transport_{};
};

} // namespace chat::gateway
