#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include <caf/actor.hpp>

#include "budgets.hpp"
#include "chat/actors/frame.hpp"
#include "chat/actors/outbox.hpp"
#include "chat/gateway/auth.hpp"
#include "chat/gateway/codec.hpp"
#include "chat/gateway/stream_format.hpp"
#include "shared_state.hpp"

namespace chat::gateway {

/// A client connection carried over plain HTTP instead of a WebSocket: an SSE
/// stream or a long-poll stream. Like a WebSocket session it has a connection
/// actor and an outbox; unlike one, its commands arrive on other requests
/// (POST /rpc, which finds it by its random id) and its replies go back on those
/// requests. Subclasses deliver the outbox to the client.
class stream_session : public live_connection {
public:
  /// Registers under a fresh id and spawns the connection actor; holds `budget`
  /// (its connection slot and stream counts) until it ends.
  stream_session(std::shared_ptr<shared_state> state, identity who, stream_budget budget);
  ~stream_session() override;

  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] const identity& who() const { return who_; }

  /// A command from POST /rpc: screened like a WebSocket frame, then executed by
  /// the connection actor; `done` gets the one reply frame (from any thread).
  void call(command cmd, std::function<void(actors::frame)> done);

  /// A sign of life from the client (presence), at most every half heartbeat.
  void alive();

  void describe(std::function<void(double, int64_t)> fill) override;

  /// The connection's id for log lines and the admin API ("<node>:<actor>").
  [[nodiscard]] std::string log_id() const;

protected:
  /// The client left `room` through /rpc (called before the leave is executed,
  /// from the request's thread).
  virtual void leaving(const std::string& room) { (void)room; }

  /// Lists the stream among the node's live connections (until it stops).
  void enlist(std::weak_ptr<live_connection> self, client_transport how,
              const boost::asio::ip::tcp::endpoint& remote);

  /// Joins the stream's rooms (the `joined` and replays arrive in the outbox).
  void join_rooms(const stream_request& req);

  /// Stops the connection actor and the outbox (idempotent).
  void stop();

  std::shared_ptr<shared_state> state_;
  std::shared_ptr<actors::outbox> out_;

private:
  stream_budget budget_;
  std::string id_;
  identity who_;
  caf::actor conn_;
  std::mutex mtx_; ///< guards what /rpc requests on other threads touch
  runtime::token_bucket commands_;
  std::chrono::steady_clock::time_point last_alive_{};
  bool stopped_ = false;
};

} // namespace chat::gateway
