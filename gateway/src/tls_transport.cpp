#include "tls_transport.hpp"

#include <boost/asio/write.hpp>

namespace chat::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

namespace {

class tls_transport final : public transport {
public:
  explicit tls_transport(tls_stream stream) : stream_(std::move(stream)) {
    beast::get_lowest_layer(stream_).expires_never();
  }

  executor get_executor() override { return stream_.get_executor(); }

  void async_read(std::shared_ptr<transport_sink> sink) override {
    // TLS decrypts into a buffer of its own; ours holds one record at most.
    read_buf_.resize(16 * 1024);
    stream_.async_read_some(asio::buffer(read_buf_),
                            [this, sink = std::move(sink)](error_code ec, size_t n) {
                              sink->on_read(ec, {read_buf_.data(), ec ? 0 : n});
                            });
  }

  void async_write(const std::vector<asio::const_buffer>& buffers,
                   std::shared_ptr<transport_sink> sink) override {
    // One contiguous buffer: TLS writes one record per buffer otherwise.
    write_buf_.clear();
    for (auto& b : buffers)
      write_buf_.append(static_cast<const char*>(b.data()), b.size());
    asio::async_write(stream_, asio::buffer(write_buf_),
                      [this, sink = std::move(sink)](error_code ec, size_t) {
                        if (write_buf_.capacity() > 256 * 1024)
                          std::string{}.swap(write_buf_);
                        sink->on_written(ec);
                      });
  }

  void shutdown_send() override {
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_send,
                                                       ignored);
  }

  void close() override {
    error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

  void abort() override {
    error_code ignored;
    auto& socket = beast::get_lowest_layer(stream_).socket();
    socket.set_option(asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
  }

private:
  tls_stream stream_;
  std::string read_buf_;
  std::string write_buf_;
};

} // namespace

std::unique_ptr<transport> make_tls_transport(tls_stream stream) {
  return std::make_unique<tls_transport>(std::move(stream));
}

} // namespace chat::gateway
