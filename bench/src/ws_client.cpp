// A lean WebSocket client on plain asio: the handshake by hand, then frames
// parsed straight out of one 64 KiB read buffer, so that a single load
// generator thread can take well over a million messages per second. (Beast's
// websocket stream costs a composed operation per message; with it the load
// generator, not the server, was the limit of every fan-out run.)

#include "ws_client.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <random>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

namespace bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

namespace {

constexpr size_t read_chunk = 64 * 1024;

std::string base64(const uint8_t* p, size_t n) {
  static const char* abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = p[i] << 16 | (i + 1 < n ? p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    out += abc[v >> 18 & 63];
    out += abc[v >> 12 & 63];
    out += i + 1 < n ? abc[v >> 6 & 63] : '=';
    out += i + 2 < n ? abc[v & 63] : '=';
  }
  return out;
}

class lean_client : public ws_client, public std::enable_shared_from_this<lean_client> {
public:
  lean_client(asio::io_context& ioc, message_handler on_msg, bool quick_ack) :
    sock_(ioc), on_msg_(std::move(on_msg)), quick_ack_(quick_ack) {
    std::random_device rd;
    for (auto& b : mask_)
      b = static_cast<uint8_t>(rd());
  }

  void connect(const std::string& local_ip, const std::string& host, uint16_t port,
               const std::string& target, done_handler done) override {
    error_code ec;
    sock_.open(tcp::v4(), ec);
    if (!local_ip.empty() && !ec)
      sock_.bind({asio::ip::make_address(local_ip), 0}, ec);
    if (ec)
      return done(ec.message());
    tcp::endpoint ep{asio::ip::make_address(host), port};
    sock_.async_connect(ep,
                        [self = shared_from_this(), host, port, target, done](error_code ec) {
                          if (ec)
                            return done("connect: " + ec.message());
                          self->sock_.set_option(tcp::no_delay(true));
                          self->handshake(host + ":" + std::to_string(port), target, done);
                        });
  }

  void send(std::string text) override {
    auto n = text.size();
    std::string& out = pending_;
    out += static_cast<char>(0x81); // FIN + text
    if (n < 126) {
      out += static_cast<char>(0x80 | n);
    } else if (n < 65536) {
      out += static_cast<char>(0x80 | 126);
      out += static_cast<char>(n >> 8);
      out += static_cast<char>(n & 0xff);
    } else {
      out += static_cast<char>(0x80 | 127);
      for (int s = 56; s >= 0; s -= 8)
        out += static_cast<char>((uint64_t{n} >> s) & 0xff);
    }
    out.append(reinterpret_cast<const char*>(mask_.data()), 4);
    for (size_t i = 0; i < n; ++i)
      out += static_cast<char>(text[i] ^ mask_[i & 3]);
    if (!writing_)
      flush();
  }

  void close() override {
    asio::post(sock_.get_executor(), [self = shared_from_this()] {
      if (!self->open_)
        return;
      // A close frame with status 1000, then the socket goes once it is written.
      std::string frame{"\x88\x82", 2};
      frame.append(reinterpret_cast<const char*>(self->mask_.data()), 4);
      frame += static_cast<char>(0x03 ^ self->mask_[0]);
      frame += static_cast<char>(0xe8 ^ self->mask_[1]);
      self->pending_ += frame;
      self->closing_ = true;
      if (!self->writing_)
        self->flush();
    });
  }

private:
  void handshake(const std::string& host, const std::string& target, done_handler done) {
    std::array<uint8_t, 16> key{};
    std::random_device rd;
    for (auto& b : key)
      b = static_cast<uint8_t>(rd());
    auto req = std::make_shared<std::string>(
      "GET " + target + " HTTP/1.1\r\nHost: " + host
      + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
      + base64(key.data(), key.size()) + "\r\nSec-WebSocket-Version: 13\r\n\r\n");
    asio::async_write(
      sock_, asio::buffer(*req), [self = shared_from_this(), req, done](error_code ec, size_t) {
        if (ec)
          return done("handshake: " + ec.message());
        auto head = std::make_shared<asio::streambuf>();
        asio::async_read_until(
          self->sock_, *head, "\r\n\r\n", [self, head, done](error_code ec, size_t n) {
            if (ec)
              return done("handshake: " + ec.message());
            std::string text{asio::buffers_begin(head->data()),
                             asio::buffers_end(head->data())};
            if (text.compare(0, 12, "HTTP/1.1 101") != 0)
              return done("handshake: " + text.substr(0, text.find('\r')));
            // Whatever came after the response head is the first frames.
            self->buf_.assign(text.begin() + static_cast<std::ptrdiff_t>(n), text.end());
            self->open_ = true;
            done({});
            self->parse();
            self->read();
          });
      });
  }

  void read() {
    auto have = buf_.size();
    buf_.resize(have + read_chunk);
    sock_.async_read_some(asio::buffer(buf_.data() + have, read_chunk),
                          [self = shared_from_this(), have](error_code ec, size_t n) {
                            self->buf_.resize(have + n);
                            if (ec) {
                              self->open_ = false;
                              return;
                            }
                            if (self->quick_ack_)
                              self->quick_ack();
                            self->parse();
                            if (self->open_)
                              self->read();
                          });
  }

  // Hands every complete message in the buffer to the handler, keeps the rest.
  void parse() {
    size_t pos = 0;
    for (;;) {
      auto avail = buf_.size() - pos;
      if (avail < 2)
        break;
      auto* p = reinterpret_cast<const uint8_t*>(buf_.data() + pos);
      bool fin = p[0] & 0x80;
      auto op = p[0] & 0x0f;
      uint64_t len = p[1] & 0x7f;
      size_t head = 2;
      if (len == 126) {
        if (avail < 4)
          break;
        len = uint64_t{p[2]} << 8 | p[3];
        head = 4;
      } else if (len == 127) {
        if (avail < 10)
          break;
        len = 0;
        for (int i = 0; i < 8; ++i)
          len = len << 8 | p[2 + i];
        head = 10;
      }
      if (avail < head + len)
        break;
      std::string_view payload{buf_.data() + pos + head, static_cast<size_t>(len)};
      pos += head + len;
      if (op == 0x8) { // close
        open_ = false;
        break;
      }
      if (op == 0x9) { // ping: pong with the same payload
        pong(payload);
        continue;
      }
      if (op == 0xA)
        continue;
      if (op == 0x0 || !fin) { // fragments: collected until FIN
        partial_.append(payload);
        if (fin) {
          on_msg_(partial_);
          partial_.clear();
        }
        continue;
      }
      on_msg_(payload);
    }
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(pos));
  }

  void pong(std::string_view payload) {
    pending_ += static_cast<char>(0x8A);
    pending_ += static_cast<char>(0x80 | payload.size());
    pending_.append(reinterpret_cast<const char*>(mask_.data()), 4);
    for (size_t i = 0; i < payload.size(); ++i)
      pending_ += static_cast<char>(payload[i] ^ mask_[i & 3]);
    if (!writing_)
      flush();
  }

  // One write in flight; whatever is queued meanwhile goes in the next one.
  void flush() {
    if (pending_.empty() || !open_)
      return;
    writing_ = true;
    inflight_.swap(pending_);
    pending_.clear();
    asio::async_write(sock_, asio::buffer(inflight_),
                      [self = shared_from_this()](error_code ec, size_t) {
                        self->writing_ = false;
                        self->inflight_.clear();
                        if (ec) {
                          self->open_ = false;
                          return;
                        }
                        if (!self->pending_.empty())
                          return self->flush();
                        if (self->closing_) {
                          error_code ignored;
                          self->sock_.shutdown(tcp::socket::shutdown_send, ignored);
                        }
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
    ::setsockopt(sock_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
  }

  tcp::socket sock_;
  message_handler on_msg_;
  bool quick_ack_;
  std::array<uint8_t, 4> mask_{};
  std::vector<char> buf_;
  std::string partial_;
  std::string pending_;
  std::string inflight_;
  bool writing_ = false;
  bool open_ = false;
  bool closing_ = false;
};

} // namespace

std::shared_ptr<ws_client> ws_client::make(asio::io_context& ioc, message_handler on_msg,
                                           bool quick_ack) {
  return std::make_shared<lean_client>(ioc, std::move(on_msg), quick_ack);
}

} // namespace bench
