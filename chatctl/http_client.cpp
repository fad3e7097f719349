#include "http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace chatctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::optional<node_url> parse_node_url(const std::string& text, std::string& error) {
  node_url u;
  std::string rest;
  if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else if (text.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = text.substr(8);
  } else {
    error = "'" + text + "' is not a node URL: give http://HOST:PORT or https://HOST:PORT";
    return std::nullopt;
  }
  if (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  auto colon = rest.rfind(':');
  auto bracket = rest.rfind(']');
  if (rest.empty() || rest.find('/') != std::string::npos) {
    error = "'" + text + "' is not a node URL: give http://HOST:PORT (no path)";
    return std::nullopt;
  }
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) {
    u.host = rest;
    u.port = u.tls ? "443" : "80";
  } else {
    u.host = rest.substr(0, colon);
    u.port = rest.substr(colon + 1);
    if (u.port.empty() || u.port.size() > 5
        || u.port.find_first_not_of("0123456789") != std::string::npos || std::stoi(u.port) == 0
        || std::stoi(u.port) > 65535) {
      error = "'" + text + "': the port must be a number from 1 to 65535";
      return std::nullopt;
    }
  }
  if (u.host.size() > 2 && u.host.front() == '[' && u.host.back() == ']')
    u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty()) {
    error = "'" + text + "' names no host";
    return std::nullopt;
  }
  return u;
}

namespace {

// One request and its answer on a connected `stream` (plain or TLS).
template <class Stream>
void request_on(Stream& stream, beast::tcp_stream& lowest, const node_url& url,
                const std::string& method, const std::string& target, const std::string& token,
                std::chrono::seconds timeout, std::optional<http_answer>& out,
                std::string& error) {
  auto req = std::make_shared<http::request<http::string_body>>(
    method == "POST" ? http::verb::post : http::verb::get, target, 11);
  req->set(http::field::host, url.host);
  req->set(http::field::user_agent, "chatctl");
  if (!token.empty())
    req->set(http::field::authorization, "Bearer " + token);
  req->prepare_payload();
  lowest.expires_after(timeout);
  http::async_write(stream, *req, [&, req, timeout](beast::error_code ec, size_t) {
    if (ec) {
      error = "the request could not be sent: " + ec.message();
      return;
    }
    auto buf = std::make_shared<beast::flat_buffer>();
    auto res = std::make_shared<http::response<http::string_body>>();
    lowest.expires_after(timeout);
    http::async_read(stream, *buf, *res, [&, buf, res](beast::error_code ec, size_t) {
      if (ec) {
        error = "no answer: " + ec.message();
        return;
      }
      out = http_answer{res->result_int(), std::move(res->body())};
    });
  });
}

} // namespace

std::optional<http_answer> exchange(const node_url& url, const std::string& method,
                                    const std::string& target, const std::string& token,
                                    const std::string& ca_file, std::string& error,
                                    std::chrono::seconds timeout) {
  asio::io_context ioc;
  tcp::resolver resolver{ioc};
  beast::error_code ec;
  auto addresses = resolver.resolve(url.host, url.port, ec);
  auto where = (url.tls ? "https://" : "http://") + url.host + ":" + url.port;
  if (ec) {
    error = "cannot resolve " + url.host + ": " + ec.message();
    return std::nullopt;
  }
  std::optional<http_answer> out;
  asio::ssl::context tls{asio::ssl::context::tls_client};
  beast::tcp_stream plain{ioc};
  beast::ssl_stream<beast::tcp_stream> secure{ioc, tls};
  auto& lowest = url.tls ? beast::get_lowest_layer(secure) : plain;
  if (url.tls) {
    tls.set_verify_mode(asio::ssl::verify_peer);
    if (ca_file.empty())
      tls.set_default_verify_paths(ec);
    else
      tls.load_verify_file(ca_file, ec);
    if (ec) {
      error = "cannot load the CA certificates" + (ca_file.empty() ? "" : " of " + ca_file)
              + ": " + ec.message();
      return std::nullopt;
    }
    secure.set_verify_callback(asio::ssl::host_name_verification(url.host));
    SSL_set_tlsext_host_name(secure.native_handle(), url.host.c_str());
  }
  lowest.expires_after(timeout);
  lowest.async_connect(addresses, [&](beast::error_code ec, const tcp::endpoint&) {
    if (ec) {
      error = "cannot reach " + where + ": " + ec.message();
      return;
    }
    if (!url.tls)
      return request_on(plain, plain, url, method, target, token, timeout, out, error);
    secure.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code ec) {
      if (ec) {
        error = "TLS with " + where + " failed: " + ec.message();
        return;
      }
      request_on(secure, lowest, url, method, target, token, timeout, out, error);
    });
  });
  ioc.run();
  return out;
}

} // namespace chatctl
