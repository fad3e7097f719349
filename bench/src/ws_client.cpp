#include "ws_client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

namespace {

class beast_client : public ws_client, public std::enable_shared_from_this<beast_client> {
public:
  beast_client(asio::io_context& ioc, message_handler on_msg, bool quick_ack) :
    ws_(ioc), on_msg_(std::move(on_msg)), quick_ack_(quick_ack) {}

  void connect(const std::string& local_ip, const std::string& host, uint16_t port,
               const std::string& target, done_handler done) override {
    auto& sock = beast::get_lowest_layer(ws_).socket();
    beast::error_code ec;
    sock.open(tcp::v4(), ec);
    if (!local_ip.empty() && !ec)
      sock.bind({asio::ip::make_address(local_ip), 0}, ec);
    if (ec)
      return done(ec.message());
    tcp::endpoint ep{asio::ip::make_address(host), port};
    beast::get_lowest_layer(ws_).async_connect(
      ep, [self = shared_from_this(), host, port, target, done](beast::error_code ec) {
        if (ec)
          return done("connect: " + ec.message());
        beast::get_lowest_layer(self->ws_).socket().set_option(tcp::no_delay(true));
        self->ws_.async_handshake(host + ":" + std::to_string(port), target,
                                  [self, done](beast::error_code ec) {
                                    if (ec)
                                      return done("handshake: " + ec.message());
                                    self->ws_.text(true);
                                    self->read();
                                    done({});
                                  });
      });
  }

  void send(std::string text) override {
    out_.push_back(std::move(text));
    if (out_.size() == 1)
      write();
  }

  void close() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      self->ws_.async_close(websocket::close_code::normal, [self](beast::error_code) {});
    });
  }

private:
  void read() {
    ws_.async_read(buf_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec)
        return;
      if (self->quick_ack_)
        self->quick_ack();
      auto data = self->buf_.cdata();
      self->on_msg_({static_cast<const char*>(data.data()), data.size()});
      self->buf_.consume(self->buf_.size());
      self->read();
    });
  }

  void write() {
    ws_.async_write(asio::buffer(out_.front()),
                    [self = shared_from_this()](beast::error_code ec, size_t) {
                      if (ec)
                        return;
                      self->out_.pop_front();
                      if (!self->out_.empty())
                        self->write();
                    });
  }

  // Acknowledge at once instead of delaying the ACK by up to 40 ms: a server
  // that leaves Nagle's algorithm on for WebSockets (nginx/nchan does: its
  // tcp_nodelay covers keep-alive connections only) would otherwise hold each
  // small frame until the load generator's delayed ACK, and the run would
  // measure that interaction instead of the server. The kernel clears the
  // flag again, so it is set after every read.
  void quick_ack() {
    int one = 1;
    auto fd = beast::get_lowest_layer(ws_).socket().native_handle();
    ::setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buf_;
  std::deque<std::string> out_;
  message_handler on_msg_;
  bool quick_ack_;
};

} // namespace

std::shared_ptr<ws_client> ws_client::make(asio::io_context& ioc, message_handler on_msg,
                                           bool quick_ack) {
  return std::make_shared<beast_client>(ioc, std::move(on_msg), quick_ack);
}

} // namespace bench
