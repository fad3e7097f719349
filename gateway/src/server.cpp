#include "chat/gateway/server.hpp"

#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/node.hpp"
#include "chat/runtime/throttled_log.hpp"
#include "http_session.hpp"
#include "websocket_session.hpp"

namespace chat::gateway {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

// Runs an io thread. Handlers are written not to throw; should one throw all
// the same (a library's exception on hostile input), the node logs it and goes
// on: the handler's operation is gone and with it the connection it served.
void run_io(asio::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("io thread: exception from a handler, its connection is dropped: {}",
                    e.what());
    }
  }
}

} // namespace

// One io_context per I/O thread, each run by that thread alone, and each
// connection on one of them (round robin): a connection's handlers are then
// serialized without a strand. A strand per connection cost ~0.25 KiB of each
// idle connection (its impl, and the type-erased executor copies that do not
// fit in any_io_executor's small buffer).
struct server::impl {
  impl(caf::actor_system& sys, actors::node_handles node, server_options opts) :
    state(std::make_shared<shared_state>(sys, std::move(node), std::move(opts))),
    iocs(make_contexts(state->opts.io_threads)), acceptor(*iocs.front()) {
    state->io = iocs.front()->get_executor();
  }

  static std::vector<std::unique_ptr<asio::io_context>> make_contexts(uint32_t n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (uint32_t i = 0; i < std::max<uint32_t>(n, 1); ++i)
      out.push_back(std::make_unique<asio::io_context>(1));
    return out;
  }

  void accept() {
    auto& home = *iocs[next_ioc++ % iocs.size()];
    acceptor.async_accept(home.get_executor(), [this](error_code ec, tcp::socket s) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open())
        return;
      if (ec)
        return accept_failed(ec);
      if (!state->sockets.acquire())
        return refuse(std::move(s));
      error_code ignored;
      s.set_option(tcp::no_delay(true), ignored);
      // The session starts on its own thread.
      auto ex = s.get_executor();
      asio::post(ex, [s = std::move(s), st = state]() mutable {
        run_http_session(std::move(s), std::move(st));
      });
      accept();
    });
  }

  // Out of descriptors (or another failure that would repeat at once): pause
  // accepting instead of spinning, and log once per interval with a count.
  void accept_failed(error_code ec) {
    accept_log.note("accept failed: " + ec.message());
    retry.expires_after(std::chrono::milliseconds(100));
    retry.async_wait([this](error_code ec) {
      if (!ec && acceptor.is_open())
        accept();
    });
  }

  // Over `max_sockets`: a short 503 and close, so that clients learn the node
  // is full long before it would run out of descriptors.
  void refuse(tcp::socket s) {
    static constexpr std::string_view body =
      R"({"type":"error","code":"overloaded","message":"too many open sockets on this node"})";
    static const std::string full =
      "HTTP/1.1 503 Service Unavailable\r\nServer: chatd\r\nContent-Type: application/json\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: "
      + std::to_string(body.size()) + "\r\n\r\n" + std::string{body};
    error_code ignored;
    s.non_blocking(true, ignored);
    s.write_some(asio::buffer(full), ignored);
    s.shutdown(tcp::socket::shutdown_both, ignored);
    s.close(ignored);
    refuse_log.note("refusing connections: " + std::to_string(state->sockets.max())
                    + " sockets open (the limit)");
    accept();
  }

  std::shared_ptr<shared_state> state;
  std::vector<std::unique_ptr<asio::io_context>> iocs;
  size_t next_ioc = 0;
  tcp::acceptor acceptor;
  asio::steady_timer retry{*iocs.front()};
  runtime::throttled_log accept_log;
  runtime::throttled_log refuse_log;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
};

server::server(caf::actor_system& sys, actors::node_handles node, server_options opts) :
  impl_(std::make_unique<impl>(sys, std::move(node), std::move(opts))) {}

server::~server() {
  stop();
}

bool server::start(std::string& error) {
  auto& d = *impl_;
  auto& o = d.state->opts;
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    error = "--tls-cert and --tls-key go together";
    return false;
  }
  if (!o.tls_cert_file.empty()) {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2
                     | asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1
                     | asio::ssl::context::no_tlsv1_1);
    error_code tls_ec;
    ctx->use_certificate_chain_file(o.tls_cert_file, tls_ec);
    if (tls_ec) {
      error = "--tls-cert '" + o.tls_cert_file + "': " + tls_ec.message();
      return false;
    }
    ctx->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, tls_ec);
    if (tls_ec) {
      error = "--tls-key '" + o.tls_key_file + "': " + tls_ec.message();
      return false;
    }
    d.state->tls = std::move(ctx);
  }
  auto& http = d.state->opts.http;
  error_code ec;
  auto addr = asio::ip::make_address(http.host, ec);
  tcp::endpoint ep{addr, http.port};
  if (!ec)
    d.acceptor.open(ep.protocol(), ec);
  if (!ec)
    d.acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    d.acceptor.bind(ep, ec);
  if (!ec)
    d.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen on " + http.to_string() + ": " + ec.message();
    return false;
  }
  d.accept();
  d.state->node.connections->attach(d.state->connections);
  actors::announce_http(d.state->node,
                        (d.state->tls ? "https://" : "http://") + local_endpoint().to_string());
  for (auto& ioc : d.iocs) {
    d.work.emplace_back(ioc->get_executor());
    d.threads.emplace_back([&ioc = *ioc] {
      run_io(ioc);
    });
  }
  return true;
}

runtime::endpoint server::local_endpoint() const {
  error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return {ep.address().to_string(), ep.port()};
}

void server::stop() {
  auto& d = *impl_;
  if (d.threads.empty())
    return;
  d.state->accepting = false;
  d.state->node.connections->attach(nullptr);
  asio::post(*d.iocs.front(), [&d] {
    error_code ignored;
    d.acceptor.close(ignored);
  });
  for (auto& s : d.state->connections->live())
    s->close_async(close_code::going_away, "server shutting down");
  // Give the close handshakes a moment (each session has its own deadline).
  d.state->connections->wait_drained(std::chrono::seconds(3));
  d.work.clear();
  for (auto& ioc : d.iocs)
    ioc->stop();
  for (auto& t : d.threads)
    t.join();
  d.threads.clear();
}

} // namespace chat::gateway
