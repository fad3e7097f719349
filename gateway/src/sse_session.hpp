#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "stream_session.hpp"
#include "transport.hpp"

namespace chat::gateway {

/// `GET /sse`: the stream's events written as Server-Sent Events over the
/// response body. Message and `joined` events carry an `id:` with the position
/// of every room of the stream, so that a browser's automatic reconnect (with
/// `Last-Event-ID`) resumes each room exactly where it stopped. A `: ping`
/// comment goes out every heartbeat interval; the client never writes, so the
/// read side only watches for the end of the connection.
class sse_session : public stream_session,
                    public actors::outbox_waker,
                    public transport_sink,
                    public std::enable_shared_from_this<sse_session> {
public:
  /// `head` is the HTTP response head (status line and headers) to send first.
  sse_session(std::unique_ptr<transport> stream, std::shared_ptr<shared_state> state,
              identity who, stream_request req, std::string head, stream_budget budget);
  ~sse_session() override;

  void start(const boost::asio::ip::tcp::endpoint& remote);
  void close_async(uint16_t code, std::string reason) override;

  /// The outbox has frames (any thread).
  void wake() override;

  /// The client sends nothing after its request: a read ends the stream once
  /// it fails (the peer closed).
  void on_read(boost::system::error_code ec, std::string_view data) override;
  void on_written(boost::system::error_code ec) override;

private:
  void leaving(const std::string& room) override;
  void wait_read();
  void write_more();
  void format(const actors::frame& f);
  void arm_heartbeat();
  /// Ends the stream; `abort` discards what the kernel has yet to send.
  void finish(bool abort = false);

  std::unique_ptr<transport> stream_;
  boost::asio::steady_timer timer_;
  stream_request req_;
  std::vector<room_position> positions_; ///< rooms whose position is known, in `rooms` order
  std::vector<actors::frame> queue_;
  std::string pending_; ///< formatted text waiting for the next write
  std::string writing_buf_;
  std::vector<boost::asio::const_buffer> buffers_; ///< must outlive the write
  size_t pending_bytes_ = 0;                       ///< outbox bytes behind `pending_`
  size_t writing_bytes_ = 0;                       ///< outbox bytes behind `writing_buf_`
  bool writing_ = false;
  bool closed_ = false;
};

} // namespace chat::gateway
