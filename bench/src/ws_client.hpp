#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

namespace bench {

/// One WebSocket client connection (a lean client on asio), callback-driven.
/// All clients of a run share one single-threaded io_context.
class ws_client {
public:
  using message_handler = std::function<void(std::string_view)>;
  using done_handler = std::function<void(const std::string& error)>;

  /// `quick_ack`: acknowledge every read at once (TCP_QUICKACK), for latency
  /// runs against servers that leave Nagle's algorithm on; it costs the load
  /// generator a system call per read, so throughput runs leave it off.
  static std::shared_ptr<ws_client> make(boost::asio::io_context& ioc, message_handler on_msg,
                                         bool quick_ack = false);
  virtual ~ws_client() = default;

  /// Connects from `local_ip` (source address spreading) and upgrades on `target`.
  virtual void connect(const std::string& local_ip, const std::string& host, uint16_t port,
                       const std::string& target, done_handler done) = 0;

  /// Queues a text frame. Thread: the io_context's.
  virtual void send(std::string text) = 0;

  virtual void close() = 0;
};

} // namespace bench
