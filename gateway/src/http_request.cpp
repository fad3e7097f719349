#include "http_request.hpp"

#include <algorithm>
#include <cstring>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

namespace chat::gateway::http_request {

namespace http = boost::beast::http;

void limit(parser& p) {
  p.header_limit(header_limit);
  p.body_limit(body_limit);
}

std::string checks::after_header(const request& req) {
  header_fields_ = std::distance(req.begin(), req.end());
  if (req.count(http::field::host) > 1)
    return "more than one Host header";
  auto te = req.count(http::field::transfer_encoding);
  if (te > 0 && req.count(http::field::content_length) > 0)
    return "both Transfer-Encoding and Content-Length";
  if (te > 0 && !req.chunked())
    return "Transfer-Encoding must be 'chunked'";
  return {};
}

std::string checks::after_body(const request& req) const {
  if (std::distance(req.begin(), req.end()) != header_fields_)
    return "trailer fields are not accepted";
  return {};
}

std::string read_for_test(std::string_view bytes, request& out) {
  boost::beast::flat_buffer buffer{read_buffer_limit};
  parser p;
  limit(p);
  checks c;
  bool header_checked = false;
  boost::system::error_code ec;
  // As async_read does: fill what the buffer may hold, let the parser take
  // what it can, repeat.
  for (;;) {
    auto room = std::min(buffer.max_size() - buffer.size(), size_t{65536});
    if (room == 0 && !bytes.empty())
      return http::make_error_code(http::error::buffer_overflow).message();
    auto n = std::min(room, bytes.size());
    if (n > 0) {
      std::memcpy(buffer.prepare(n).data(), bytes.data(), n);
      buffer.commit(n);
      bytes.remove_prefix(n);
    }
    for (;;) {
      auto used = p.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec)
        return ec.message();
      if (p.is_header_done() && !header_checked) {
        header_checked = true;
        if (auto why = c.after_header(p.get()); !why.empty())
          return why;
      }
      if (p.is_done()) {
        if (auto why = c.after_body(p.get()); !why.empty())
          return why;
        out = p.release();
        return {};
      }
      if (used == 0)
        break;
    }
    if (bytes.empty())
      return "incomplete request";
  }
}

} // namespace chat::gateway::http_request
