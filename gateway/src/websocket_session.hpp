#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <caf/send.hpp>

#include "budgets.hpp"
#include "chat/actors/outbox.hpp"
#include "chat/gateway/auth.hpp"
#include "chat/gateway/codec.hpp"
#include "chat/gateway/ws_protocol.hpp"
#include "session_clock.hpp"
#include "shared_state.hpp"
#include "transport.hpp"

namespace chat::gateway {

/// One client WebSocket after the handshake. It owns the socket; its connection
/// actor and the rooms reach it only through the outbox. Reads wait for
/// readability and use a per-thread buffer, so an idle session holds no read
/// buffer; writes take everything queued and send it with one gather write.
class websocket_session : public live_connection,
                          public actors::outbox_waker,
                          public transport_sink,
                          private session_clock::entry,
                          public std::enable_shared_from_this<websocket_session> {
public:
  /// Without an identity the session waits up to 5 s for an `auth` frame,
  /// holding `pending` (a place among unauthenticated sockets) meanwhile; with
  /// one, the caller has reserved its connection slot.
  websocket_session(std::unique_ptr<transport> stream, std::shared_ptr<shared_state> state,
                    std::optional<identity> id,
                    std::unique_ptr<unauthenticated_ticket> pending = nullptr);
  ~websocket_session();

  /// Starts the session; `early` holds bytes the client sent right after its
  /// handshake request.
  void start(std::string_view early, const boost::asio::ip::tcp::endpoint& remote);

  /// Sends a close frame with `code` and ends the session (thread-safe).
  void close_async(uint16_t code, std::string reason) override;
  void describe(std::function<void(double, int64_t)> fill) override;

  /// The outbox has frames (any thread).
  void wake() override;

  void on_read(boost::system::error_code ec, std::string_view data) override;
  void on_written(boost::system::error_code ec) override;

private:
  /// The deadline of `due_` passed (the authentication, the next heartbeat, or
  /// the end of the close handshake).
  void on_deadline(session_clock::time_point now) override;

  void wait_read();
  void on_data(std::string_view data);
  bool handle(const ws_reader::event& ev);
  void handle_text(std::string_view text);
  void begin();
  void dispatch(command& cmd);
  [[nodiscard]] bool saturated() const;
  void pause_reading();
  void authenticate(std::variant<command, command_error>& parsed);
  void reply(const actors::frame& f);
  /// The connection's id for log lines ("<node>:<actor>"; "" before `auth`).
  [[nodiscard]] std::string log_id() const;
  void alive();
  void close(uint16_t code, std::string_view reason);
  void write_more();
  void arm_heartbeat();
  /// Ends the socket; `abort` discards what the kernel has yet to send.
  void finish(bool abort = false);

  // An idle session must fit jemalloc's 512-byte class with make_shared's
  // control block (ADR 7): the small fields share one word.
  std::unique_ptr<transport> stream_;
  enum class deadline : uint8_t { auth, heartbeat, close } due_ = deadline::auth;
  enum class phase : uint8_t { open, closing, closed } phase_ = phase::open;
  bool close_sent_ = false;
  uint8_t missed_pongs_ = 0;    ///< at most max_missed_pongs
  uint8_t bad_in_row_ = 0;      ///< at most max_bad_in_row
  bool reading_paused_ = false; ///< too many unfinished commands (see saturated())
  std::shared_ptr<shared_state> state_;
  std::optional<identity> id_;
  std::unique_ptr<unauthenticated_ticket> pending_auth_; ///< until authenticated
  std::shared_ptr<actors::outbox> out_;
  caf::actor conn_;
  ws_reader reader_;
  std::vector<actors::frame> queue_;
  actors::frame close_frame_;
  size_t writing_ = 0;      ///< frames at the front of queue_ being written (0: no write)
  uint64_t dispatched_ = 0; ///< commands handed to the connection actor
  runtime::token_bucket commands_;
  std::chrono::steady_clock::time_point last_alive_{};
};

} // namespace chat::gateway
