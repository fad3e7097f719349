#include "http_session.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "http_exchange.hpp"
#include "http_router.hpp"
#include "tls_transport.hpp"
#include "websocket_session.hpp"

namespace chat::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using boost::system::error_code;

namespace {

using actors::wire_error;
using response = http::response<http::string_body>;

// One HTTP connection over `Stream`: beast::tcp_stream, or tls_stream (TLS
// handshake first). It reads requests, hands each to the router and writes
// the reply; the WebSocket upgrade and SSE hand the stream to a transport.
// I/O only: what a request means is the handlers' (http_exchange.hpp).
template <class Stream>
class http_session final : public http_exchange {
  static constexpr bool is_tls = !std::is_same_v<Stream, beast::tcp_stream>;

public:
  // The socket is counted in `state->sockets` (taken by the acceptor); the
  // session gives it back, or hands it on with the socket at an upgrade.
  http_session(asio::ip::tcp::socket socket, std::shared_ptr<shared_state> s) :
    stream_(std::move(socket)) {
    state = std::move(s);
  }

  http_session(asio::ip::tcp::socket socket, asio::ssl::context& tls,
               std::shared_ptr<shared_state> s) :
    stream_(std::move(socket), tls) {
    state = std::move(s);
  }

  ~http_session() override {
    if (holds_socket_)
      state->sockets.release();
  }

  http_session(const http_session&) = delete;
  http_session& operator=(const http_session&) = delete;

  void run() {
    error_code ec;
    auto address = lowest().socket().remote_endpoint(ec);
    if (!ec) {
      peer = address.address().to_string();
      remote = address;
    }
    // Per client IP: new connections (and so handshakes) are rate limited.
    if (!charge_address("too many new connections from this address"))
      return;
    if constexpr (is_tls) {
      lowest().expires_after(state->opts.request_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = self_ptr()](error_code ec) {
                                if (ec)
                                  return self->close();
                                self->do_read();
                              });
    } else {
      do_read();
    }
  }

  void reply(http_reply r) override {
    asio::post(lowest().get_executor(), [self = self_ptr(), r = std::move(r)]() mutable {
      self->write(std::move(r));
    });
  }

  void expires_never() override { lowest().expires_never(); }

  std::unique_ptr<transport> take_transport() override {
    holds_socket_ = false;
    if constexpr (is_tls)
      return make_tls_transport(std::move(stream_));
    else
      return make_tcp_transport(stream_.release_socket());
  }

  void upgrade_to_websocket(std::string accept_key, std::optional<identity> id,
                            std::unique_ptr<unauthenticated_ticket> pending) override {
    auto res = std::make_shared<http::response<http::empty_body>>(
      http::status::switching_protocols, version_);
    res->set(http::field::upgrade, "websocket");
    res->set(http::field::connection, "Upgrade");
    res->set(http::field::sec_websocket_accept, accept_key);
    lowest().expires_never();
    http::async_write(stream_, *res,
                      [self = self_ptr(), res, id = std::move(id),
                       pending = std::move(pending)](error_code ec, size_t) mutable {
                        if (ec) {
                          if (!pending)
                            self->state->release_slot();
                          return self->close();
                        }
                        auto early = beast::buffers_to_string(self->buffer_.data());
                        auto ws = std::make_shared<websocket_session>(
                          self->take_transport(), self->state, std::move(id),
                          std::move(pending));
                        ws->start(early, self->remote);
                      });
  }

private:
  std::shared_ptr<http_session> self_ptr() {
    return std::static_pointer_cast<http_session>(shared_from_this());
  }

  // Takes a token from the client address's connection bucket: every new
  // connection, and every further request on a kept-alive one (so that
  // pipelining costs what opening connections would). Answers 429 otherwise.
  bool charge_address(std::string_view why) {
    int64_t retry_after = 0;
    if (peer.empty() || state->connects.take(peer, retry_after))
      return true;
    auto r = error_reply(wire_error::rate_limited, why);
    r.headers.emplace_back(http::field::retry_after,
                           std::to_string((retry_after + 999) / 1000));
    r.close = true;
    write(std::move(r));
    return false;
  }

  // The header first: what it says decides whether the body is read at all.
  void do_read() {
    parser_.emplace();
    http_request::limit(*parser_);
    checks_ = {};
    lowest().expires_after(state->opts.request_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = self_ptr()](error_code ec, size_t) {
                              self->on_header(ec);
                            });
  }

  // A request that cannot be read on: the answer, then the connection closes.
  void refuse(wire_error code, std::string_view why, std::optional<http::status> status = {}) {
    auto r = error_reply(code, why, status);
    r.close = true;
    write(std::move(r));
  }

  void on_header(error_code ec) {
    if (ec)
      return on_read_error(ec);
    if (++requests_ > 1 && !charge_address("too many requests from this address"))
      return;
    auto& req = parser_->get();
    version_ = req.version();
    if (auto why = checks_.after_header(req); !why.empty())
      return refuse(wire_error::bad_request, why);
    if (auto expect = req.find(http::field::expect); expect != req.end()) {
      if (!beast::iequals(expect->value(), "100-continue"))
        return refuse(wire_error::bad_request, "only 'Expect: 100-continue' is understood",
                      http::status::expectation_failed);
      // The client waits for this before it sends the body (RFC 9110 10.1.1).
      static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      return asio::async_write(stream_, asio::buffer(go_on.data(), go_on.size()),
                               [self = self_ptr()](error_code ec, size_t) {
                                 if (ec)
                                   return self->close();
                                 self->read_body();
                               });
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) // no body (GET): nothing more to read
      return on_read({});
    http::async_read(stream_, buffer_, *parser_, [self = self_ptr()](error_code ec, size_t) {
      self->on_read(ec);
    });
  }

  void on_read_error(error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout)
      return close();
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow)
      return refuse(wire_error::bad_request,
                    ec == http::error::header_limit
                      ? "request headers larger than 8 KiB"
                      : "request line, chunk line or trailer larger than 16 KiB",
                    http::status::request_header_fields_too_large);
    if (ec == http::error::body_limit)
      return refuse(wire_error::too_large, "request body too large");
    if (ec.category() == http::make_error_code(http::error::bad_target).category())
      return refuse(wire_error::bad_request, "malformed HTTP request");
    close();
  }

  void on_read(error_code ec) {
    if (ec)
      return on_read_error(ec);
    if (auto why = checks_.after_body(parser_->get()); !why.empty())
      return refuse(wire_error::bad_request, why);
    auto req = parser_->release();
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    route(*this, std::move(req));
  }

  void write(http_reply r) {
    response res{r.status, version_};
    if (!r.content_type.empty())
      res.set(http::field::content_type,
              beast::string_view{r.content_type.data(), r.content_type.size()});
    for (auto& [field, value] : r.headers)
      res.set(field, value);
    res.set(http::field::server, "chatd");
    if (!cors_origin.empty()) {
      res.set(http::field::access_control_allow_origin, cors_origin);
      res.set(http::field::vary, "Origin");
    }
    res.body() = std::move(r.body);
    bool keep_alive = keep_alive_ && !r.close;
    res.keep_alive(keep_alive);
    res.prepare_payload();
    auto msg = std::make_shared<response>(std::move(res));
    http::async_write(stream_, *msg,
                      [self = self_ptr(), msg, keep_alive](error_code ec, size_t) {
                        if (ec || !keep_alive)
                          return self->close();
                        self->do_read();
                      });
  }

  // A lingering close (RFC 9112 9.6): after the last response, read and
  // discard what the client still sends, for a moment and up to a bound, before
  // the socket is closed. Closing with unread bytes makes the kernel send a
  // reset, which can destroy the response (a 431, a 429) before the client
  // reads it.
  void close() {
    error_code ignored;
    lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    lowest().expires_after(std::chrono::seconds(2));
    buffer_.consume(buffer_.size());
    discard(0);
  }

  void discard(size_t discarded) {
    static constexpr size_t linger_bytes = 1 << 20;
    if (discarded >= linger_bytes)
      return;
    lowest().async_read_some(buffer_.prepare(4096),
                             [self = self_ptr(), discarded](error_code ec, size_t n) {
                               if (ec)
                                 return;
                               self->buffer_.commit(n);
                               self->buffer_.consume(n);
                               self->discard(discarded + n);
                             });
  }

  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  Stream stream_;
  beast::flat_buffer buffer_{http_request::read_buffer_limit};
  std::optional<http_request::parser> parser_;
  http_request::checks checks_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool holds_socket_ = true; ///< false once the socket moved to a WebSocket or SSE session
  uint64_t requests_ = 0;    ///< requests read on this connection
};

} // namespace

void run_http_session(asio::ip::tcp::socket socket, std::shared_ptr<shared_state> state) {
  if (auto tls = state->tls)
    std::make_shared<http_session<tls_stream>>(std::move(socket), *tls, std::move(state))
      ->run();
  else
    std::make_shared<http_session<beast::tcp_stream>>(std::move(socket), std::move(state))
      ->run();
}

} // namespace chat::gateway
