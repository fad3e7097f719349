#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "stream_session.hpp"

namespace chat::gateway {

/// `GET /poll`: a stream whose events are fetched by successive requests.
///
/// Events are numbered in arrival order. A reply carries every event the client
/// has not confirmed and a cursor with the number of the last one; the next
/// request presents that cursor, which confirms (and frees) the events up to it.
/// A lost reply is therefore repeated by presenting the old cursor again, and
/// nothing is lost or repeated between two successful polls. Everything runs on
/// the stream's own strand; requests come from any HTTP connection.
class poll_stream : public stream_session, public std::enable_shared_from_this<poll_stream> {
public:
  struct result {
    unsigned status = 200;
    std::string body;
  };
  using reply_fn = std::function<void(result)>;

  /// A stream nobody polls for this long after its last reply is closed (a
  /// client polls again at once; an abandoned stream must not hold its slot).
  static constexpr std::chrono::seconds idle_timeout{15};

  poll_stream(std::shared_ptr<shared_state> state, identity who, stream_request req,
              stream_budget budget);

  void start(const boost::asio::ip::tcp::endpoint& remote);

  /// One poll presenting `count` (0 on the first request). `done` is called once,
  /// from the stream's strand: with events as soon as there are any, or empty
  /// after `timeout`; 400 for a stale or forged count. A newer poll answers a
  /// waiting older one at once (empty, its own cursor).
  void wait(uint64_t count, std::chrono::milliseconds timeout, reply_fn done);

  void close_async(uint16_t code, std::string reason) override;

private:
  void on_wait(uint64_t count, std::chrono::milliseconds timeout, reply_fn done);
  void drain();
  void answer();
  void arm_expiry();
  void finish(actors::wire_error code, std::string why);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer hold_;
  boost::asio::steady_timer expiry_;
  stream_request req_;
  std::vector<actors::frame> taken_;
  std::deque<actors::frame> unconfirmed_; ///< numbered confirmed_ + 1, + 2, ...
  uint64_t confirmed_ = 0;                ///< events the client has confirmed by a cursor
  uint64_t issued_ = 0;                   ///< the highest count handed out in a cursor
  reply_fn waiter_;
  uint64_t waiter_count_ = 0;
  bool closed_ = false;
};

} // namespace chat::gateway
