#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace chat::gateway {

/// How every HTTP request is read: Beast's parser with the gateway's limits,
/// plus the checks Beast leaves to its user. The HTTP session reads with these,
/// and the fuzz target drives the same parser and checks over whole requests.
namespace http_request {

using request = boost::beast::http::request<boost::beast::http::string_body>;
using parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

inline constexpr size_t header_limit = 8 * 1024;
inline constexpr size_t body_limit = 256 * 1024;
/// What one connection's read buffer may hold. The body streams through it,
/// but a chunked body's trailer is buffered whole before Beast parses it, and
/// Beast throws on a field of 64 KiB or more: this bound keeps trailers (and
/// chunk lines) small, and every field far below that.
inline constexpr size_t read_buffer_limit = 16 * 1024;

/// Applies the limits to a fresh parser.
void limit(parser& p);

/// The checks between the header and the body, and after the body.
class checks {
public:
  /// Once the header is read: why the request is refused (400), or "".
  /// Ambiguous framing or headers that a proxy may read differently: more
  /// than one Host, Transfer-Encoding other than chunked, or with a
  /// Content-Length (RFC 9112 3.2, 6.1, 6.3).
  [[nodiscard]] std::string after_header(const request& req);

  /// Once the body is read: why the request is refused (400), or "". Beast
  /// adds a chunked body's trailer fields to the header; nothing here needs
  /// them, and a proxy may treat them differently.
  [[nodiscard]] std::string after_body(const request& req) const;

private:
  std::ptrdiff_t header_fields_ = 0;
};

/// Reads one request from `bytes` the way the session does (a bounded buffer,
/// the header, the checks, the body), synchronously: for the fuzz target and
/// tests. Returns "" with the request complete, or why it was refused.
[[nodiscard]] std::string read_for_test(std::string_view bytes, request& out);

} // namespace http_request

} // namespace chat::gateway
