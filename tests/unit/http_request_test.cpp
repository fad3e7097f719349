#include <doctest/doctest.h>

#include <string>

#include "http_request.hpp"

namespace hr = chat::gateway::http_request;

namespace {

std::string read(const std::string& bytes) {
  hr::request req;
  return hr::read_for_test(bytes, req);
}

std::string chunked_with_trailer(const std::string& trailer) {
  return "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
         "3\r\nabc\r\n0\r\n"
         + trailer + "\r\n";
}

} // namespace

TEST_CASE("requests the gateway accepts") {
  hr::request req;
  CHECK(hr::read_for_test("GET /a HTTP/1.1\r\nHost: x\r\n\r\n", req).empty());
  CHECK(req.target() == "/a");
  CHECK(hr::read_for_test(chunked_with_trailer(""), req).empty());
  CHECK(req.body() == "abc");
  CHECK(read("POST /rpc HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}").empty());
}

TEST_CASE("trailers: refused, and a huge field never reaches Beast's field storage") {
  CHECK(read(chunked_with_trailer("X: y\r\n")) == "trailer fields are not accepted");
  // 65,535 bytes made Beast throw std::length_error (the node aborted).
  for (size_t n : {40000u, 65535u, 70000u})
    CHECK_NOTHROW(
      CHECK_FALSE(read(chunked_with_trailer("X: " + std::string(n, 'a') + "\r\n")).empty()));
  std::string many;
  for (int i = 0; i < 1000; ++i)
    many += "X-" + std::to_string(i) + ": " + std::string(1000, 'b') + "\r\n";
  CHECK_FALSE(read(chunked_with_trailer(many)).empty());
}

TEST_CASE("ambiguous framing and headers are refused") {
  CHECK(read("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n") == "more than one Host header");
  CHECK(read("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: "
             "2\r\n\r\n{}")
        == "both Transfer-Encoding and Content-Length");
  CHECK(read("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n")
        == "Transfer-Encoding must be 'chunked'");
  CHECK_FALSE(
    read("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(9000, 'h') + "\r\n\r\n").empty());
  CHECK_FALSE(read("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 300000\r\n\r\n").empty());
}
