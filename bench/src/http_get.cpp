#include "http_get.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

std::optional<std::string> http_get(const std::string& host, uint16_t port,
                                    const std::string& target) {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  std::optional<std::string> out;
  stream.expires_after(std::chrono::seconds(2));
  stream.async_connect({asio::ip::make_address(host), port}, [&](beast::error_code ec) {
    if (ec)
      return;
    auto req = std::make_shared<http::request<http::empty_body>>(http::verb::get, target, 11);
    req->set(http::field::host, host);
    http::async_write(stream, *req, [&, req](beast::error_code ec, size_t) {
      if (ec)
        return;
      auto buf = std::make_shared<beast::flat_buffer>();
      auto res = std::make_shared<http::response<http::string_body>>();
      http::async_read(stream, *buf, *res, [&, buf, res](beast::error_code ec, size_t) {
        if (!ec && res->result() == http::status::ok)
          out = std::move(res->body());
      });
    });
  });
  ioc.run();
  return out;
}

} // namespace bench
