#pragma once

#include <memory>

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "transport.hpp"

namespace chat::gateway {

using tls_stream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

/// TLS (after the handshake, which the HTTP session did).
std::unique_ptr<transport> make_tls_transport(tls_stream stream);

} // namespace chat::gateway
