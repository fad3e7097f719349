#include <doctest/doctest.h>

#include "chat/gateway/ws_protocol.hpp"

using namespace chat::gateway;

namespace {

// A client frame: masked, as RFC 6455 requires.
std::string client_frame(uint8_t opcode, std::string_view payload, bool fin = true,
                         bool masked = true, uint8_t rsv = 0) {
  std::string out;
  out += static_cast<char>((fin ? 0x80 : 0) | rsv | opcode);
  uint8_t mask_bit = masked ? 0x80 : 0;
  if (payload.size() < 126) {
    out += static_cast<char>(mask_bit | payload.size());
  } else if (payload.size() <= 0xffff) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>(payload.size() >> 8);
    out += static_cast<char>(payload.size() & 0xff);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i)
      out += static_cast<char>((uint64_t{payload.size()} >> (8 * i)) & 0xff);
  }
  const char mask[4] = {0x12, 0x34, 0x56, 0x78};
  if (masked)
    out.append(mask, 4);
  for (size_t i = 0; i < payload.size(); ++i)
    out += masked ? static_cast<char>(payload[i] ^ mask[i & 3]) : payload[i];
  return out;
}

ws_reader::event feed_all(ws_reader& r, const std::string& bytes) {
  r.feed(bytes.data(), bytes.size());
  return r.next();
}

} // namespace

TEST_CASE("the accept key matches RFC 6455's example") {
  CHECK(websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("text frames of every length class, fed byte by byte") {
  for (size_t len : {size_t{0}, size_t{5}, size_t{125}, size_t{126}, size_t{65535},
                     size_t{65536}, size_t{100000}}) {
    CAPTURE(len);
    ws_reader r{128 * 1024};
    std::string payload(len, 'a');
    auto bytes = client_frame(0x1, payload);
    ws_reader::event ev;
    for (size_t i = 0; i < bytes.size(); ++i) {
      r.feed(&bytes[i], 1);
      ev = r.next();
      if (i + 1 < bytes.size())
        REQUIRE(ev.what == ws_reader::kind::need_more);
    }
    CHECK(ev.what == ws_reader::kind::text);
    CHECK(ev.payload == payload);
    CHECK(r.next().what == ws_reader::kind::need_more);
    CHECK(r.idle());
  }
}

TEST_CASE("fragments are assembled; control frames may come in between") {
  ws_reader r{1024};
  auto bytes =
    client_frame(0x1, "hel", false) + client_frame(0x9, "p") + client_frame(0x0, "lo", true);
  r.feed(bytes.data(), bytes.size());
  auto ping = r.next();
  CHECK(ping.what == ws_reader::kind::ping);
  CHECK(ping.payload == "p");
  auto text = r.next();
  CHECK(text.what == ws_reader::kind::text);
  CHECK(text.payload == "hello");
}

TEST_CASE("several frames in one read") {
  ws_reader r{1024};
  auto bytes = client_frame(0x1, "a") + client_frame(0x2, "b") + client_frame(0xA, "")
               + client_frame(0x8, std::string("\x03\xe8", 2));
  r.feed(bytes.data(), bytes.size());
  CHECK(r.next().what == ws_reader::kind::text);
  CHECK(r.next().what == ws_reader::kind::binary);
  CHECK(r.next().what == ws_reader::kind::pong);
  auto close = r.next();
  CHECK(close.what == ws_reader::kind::close);
  CHECK(close.code == 1000);
}

TEST_CASE("protocol violations name the close code") {
  auto expect_fail = [](const std::string& bytes, uint16_t code, size_t limit = 1024) {
    ws_reader r{limit};
    auto ev = feed_all(r, bytes);
    CHECK(ev.what == ws_reader::kind::fail);
    CHECK(ev.code == code);
    CHECK_FALSE(ev.reason.empty());
  };
  expect_fail(client_frame(0x1, "x", true, false), close_code::protocol_error);      // unmasked
  expect_fail(client_frame(0x1, "x", true, true, 0x40), close_code::protocol_error); // rsv1
  expect_fail(client_frame(0x3, "x"), close_code::protocol_error);        // reserved opcode
  expect_fail(client_frame(0x0, "x"), close_code::protocol_error);        // lone continuation
  expect_fail(client_frame(0x9, "x", false), close_code::protocol_error); // fragmented ping
  expect_fail(client_frame(0x9, std::string(126, 'x')), close_code::protocol_error);
  expect_fail(client_frame(0x1, "a", false) + client_frame(0x1, "b"),
              close_code::protocol_error); // new message inside a fragmented one
  expect_fail(client_frame(0x8, "x"), close_code::protocol_error); // 1-byte close payload
  expect_fail(client_frame(0x1, std::string(1025, 'x')), close_code::too_big);
  expect_fail(client_frame(0x1, std::string(600, 'x'), false)
                + client_frame(0x0, std::string(600, 'x')),
              close_code::too_big);
  expect_fail(client_frame(0x1, "\xc3\x28"), close_code::invalid_payload);
}

TEST_CASE("an absurd length is refused from the header alone") {
  ws_reader r{128 * 1024};
  std::string hdr = "\x81\xff";
  hdr += std::string("\x7f\xff\xff\xff\xff\xff\xff\xff", 8);
  auto ev = feed_all(r, hdr);
  CHECK(ev.what == ws_reader::kind::fail);
  CHECK(ev.code == close_code::too_big);
}

TEST_CASE("UTF-8 validation") {
  CHECK(valid_utf8("plain"));
  CHECK(valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK_FALSE(valid_utf8("\xc3"));             // truncated
  CHECK_FALSE(valid_utf8("\xc0\xaf"));         // overlong
  CHECK_FALSE(valid_utf8("\xed\xa0\x80"));     // surrogate
  CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80")); // above U+10FFFF
  CHECK_FALSE(valid_utf8("\xff"));
}

TEST_CASE("close frames: codes a peer may send, reasons in UTF-8") {
  auto close_with = [](uint16_t code, std::string reason = "") {
    std::string payload;
    payload += static_cast<char>(code >> 8);
    payload += static_cast<char>(code & 0xff);
    ws_reader r{1024};
    return feed_all(r, client_frame(0x8, payload + reason));
  };
  for (uint16_t ok : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                      3000, 3999, 4000, 4999}) {
    auto ev = close_with(ok, "bye");
    CHECK(ev.what == ws_reader::kind::close);
    CHECK(ev.code == ok);
  }
  for (uint16_t bad : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    auto ev = close_with(bad);
    CHECK(ev.what == ws_reader::kind::fail);
    CHECK(ev.code == close_code::protocol_error);
  }
  auto ev = close_with(1000, "\xc3\x28");
  CHECK(ev.what == ws_reader::kind::fail);
  CHECK(ev.code == close_code::invalid_payload);
  ws_reader r{1024};
  auto empty = feed_all(r, client_frame(0x8, ""));
  CHECK(empty.what == ws_reader::kind::close);
  CHECK(empty.code == close_code::no_status);
}
