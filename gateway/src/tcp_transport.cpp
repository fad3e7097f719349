#include "transport.hpp"

#include <boost/asio/write.hpp>

namespace chat::gateway {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

class tcp_transport final : public transport {
public:
  explicit tcp_transport(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
    socket_.non_blocking(true);
  }

  executor get_executor() override { return socket_.get_executor(); }

  void async_read(std::shared_ptr<transport_sink> sink) override {
    socket_.async_wait(asio::ip::tcp::socket::wait_read,
                       [this, sink = std::move(sink)](error_code ec) mutable {
                         if (ec)
                           return sink->on_read(ec, {});
                         thread_local std::vector<char> scratch(64 * 1024);
                         auto n = socket_.read_some(asio::buffer(scratch), ec);
                         if (ec == asio::error::would_block)
                           return async_read(std::move(sink));
                         sink->on_read(ec, {scratch.data(), ec ? 0 : n});
                       });
  }

  void async_write(const std::vector<asio::const_buffer>& buffers,
                   std::shared_ptr<transport_sink> sink) override {
    asio::async_write(socket_, buffers, [sink = std::move(sink)](error_code ec, size_t) {
      sink->on_written(ec);
    });
  }

  void shutdown_send() override {
    error_code ignored;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  }

  void close() override {
    error_code ignored;
    socket_.close(ignored);
  }

  void abort() override {
    error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
  }

private:
  asio::ip::tcp::socket socket_;
};

} // namespace

std::unique_ptr<transport> make_tcp_transport(asio::ip::tcp::socket socket) {
  return std::make_unique<tcp_transport>(std::move(socket));
}

} // namespace chat::gateway
