#pragma once

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

namespace chat::gateway {

/// The byte stream under a WebSocket session: plain TCP or TLS. The session
/// speaks WebSocket over it and never knows which.
class transport {
public:
  using executor = boost::asio::any_io_executor;
  /// The bytes are valid only during the call.
  using read_handler = std::function<void(boost::system::error_code, std::string_view)>;
  using write_handler = std::function<void(boost::system::error_code)>;

  virtual ~transport() = default;

  /// The strand every handler runs on.
  virtual executor get_executor() = 0;

  /// Delivers the next bytes received (one call per async_read).
  virtual void async_read(read_handler handler) = 0;

  /// Writes every buffer (the buffers must stay valid until the handler runs).
  virtual void async_write(const std::vector<boost::asio::const_buffer>& buffers,
                           write_handler handler) = 0;

  /// Sends no more (the peer sees the end of the stream).
  virtual void shutdown_send() = 0;

  virtual void close() = 0;
};

/// Plain TCP. Reads wait for readability and then use one buffer per io thread,
/// so an idle connection holds no read buffer.
std::unique_ptr<transport> make_tcp_transport(boost::asio::ip::tcp::socket socket);

} // namespace chat::gateway
