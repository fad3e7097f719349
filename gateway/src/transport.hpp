#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace chat::gateway {

/// What a transport's reads and writes report to: the session, kept alive while
/// an operation is pending (a shared_ptr in the operation, not a std::function on
/// the heap: an idle connection always has a read pending, and a busy one would
/// allocate one per write). One interface for both, so a session pays one vtable
/// pointer for it.
class transport_sink {
public:
  virtual ~transport_sink() = default;
  /// The bytes are valid only during the call.
  virtual void on_read(boost::system::error_code ec, std::string_view data) = 0;
  /// The last async_write finished.
  virtual void on_written(boost::system::error_code ec) = 0;
};

/// The byte stream under a WebSocket session: plain TCP or TLS. The session
/// speaks WebSocket over it and never knows which.
class transport {
public:
  using executor = boost::asio::any_io_executor;

  virtual ~transport() = default;

  /// The strand every handler runs on.
  virtual executor get_executor() = 0;

  /// Delivers the next bytes received to `sink` (one call per async_read).
  virtual void async_read(std::shared_ptr<transport_sink> sink) = 0;

  /// Writes every buffer. The bytes must stay valid until the handler runs; the
  /// list itself is copied.
  virtual void async_write(const std::vector<boost::asio::const_buffer>& buffers,
                           std::shared_ptr<transport_sink> sink) = 0;

  /// Sends no more (the peer sees the end of the stream).
  virtual void shutdown_send() = 0;

  virtual void close() = 0;

  /// Closes and discards what the kernel still holds to send (a reset): for a
  /// peer that stopped reading, whose unsent bytes would otherwise keep the
  /// connection alive in the kernel.
  virtual void abort() = 0;
};

/// Plain TCP. Reads wait for readability and then use one buffer per io thread,
/// so an idle connection holds no read buffer.
std::unique_ptr<transport> make_tcp_transport(boost::asio::ip::tcp::socket socket);

} // namespace chat::gateway
