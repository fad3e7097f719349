#pragma once

// What the admin API asks of the node's client connections (docs/protocol.md,
// "Admin API"). The gateway owns the sessions and implements this; the node's
// inspector (the actors layer) reads it through the slot in node_handles, so
// that the actors never see a socket and the gateway never a peer node.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>

namespace chat::actors {

/// One authenticated client connection. Its id in the admin API is
/// "<node>:<actor id of its connection actor>".
struct connection_card {
  caf::actor actor; ///< its connection actor
  std::string user;
  std::string transport;      ///< "ws", "sse" or "poll"
  std::string remote;         ///< the client's address and port
  int64_t opened_at = 0;      ///< unix ms
  double rate_tokens = 0;     ///< commands it may send now before it is rate limited
  int64_t last_heartbeat = 0; ///< unix ms of its last sign of life (0: none yet)
};

class connection_registry {
public:
  virtual ~connection_registry() = default;

  /// The connection actors of up to `limit` authenticated connections of
  /// `user` (of every user when empty) whose actor id is above `after`,
  /// ascending by actor id.
  virtual std::vector<caf::actor> pick(const std::string& user, caf::actor_id after,
                                       size_t limit) = 0;

  /// The cards of the connections with these actors, each read on its
  /// session's own thread; `done` is called exactly once, from any thread,
  /// ascending by actor id, without those that closed meanwhile.
  virtual void describe(std::vector<caf::actor> actors,
                        std::function<void(std::vector<connection_card>)> done) = 0;

  /// Closes the connection of this actor (a WebSocket with 4000 "closed by
  /// admin"); false when no such connection is open here.
  virtual bool close(caf::actor_id actor) = 0;
};

/// Where the gateway attaches its registry once it serves (a node without a
/// gateway, e.g. in tests, has none: no connections).
class connection_registry_slot {
public:
  void attach(std::shared_ptr<connection_registry> r) {
    std::lock_guard<std::mutex> guard{mtx_};
    registry_ = std::move(r);
  }

  [[nodiscard]] std::shared_ptr<connection_registry> get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return registry_;
  }

private:
  mutable std::mutex mtx_;
  std::shared_ptr<connection_registry> registry_;
};

} // namespace chat::actors
