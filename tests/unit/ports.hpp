#pragma once

#include <cstdint>
#include <random>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace chat::test {

/// True when nothing listens on 127.0.0.1:`port`.
inline bool port_free(uint16_t port) {
  boost::asio::io_context io;
  boost::system::error_code ec;
  boost::asio::ip::tcp::acceptor a{io};
  a.open(boost::asio::ip::tcp::v4(), ec);
  a.set_option(boost::asio::socket_base::reuse_address(true), ec);
  a.bind({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  return !ec;
}

/// A free port below the kernel's ephemeral range (32768+), so that no
/// outgoing connection takes it while the node that owns it is down.
inline uint16_t free_port() {
  static std::mt19937 rng{std::random_device{}()};
  for (;;)
    if (auto port = static_cast<uint16_t>(20000 + rng() % 12000); port_free(port))
      return port;
}

} // namespace chat::test
