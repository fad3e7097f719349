#include "chat/gateway/ws_protocol.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

namespace chat::gateway {

std::string websocket_accept_key(std::string_view client_key) {
  static constexpr std::string_view guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input{client_key};
  input += guid;
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  auto n = EVP_EncodeBlock(out, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

bool valid_utf8(std::string_view s) {
  auto* p = reinterpret_cast<const unsigned char*>(s.data());
  auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n;
    uint32_t cp;
    uint32_t min;
    if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= n)
      return false;
    for (size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    p += n + 1;
  }
  return true;
}

bool valid_close_code(uint16_t code) {
  // RFC 6455 7.4.1 and 7.4.2 with IANA's registry: 1004-1006 and 1015 are
  // reserved or must never be sent; 1016-2999 are unassigned; 3000-4999 belong
  // to libraries and applications.
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014)
         || (code >= 3000 && code <= 4999);
}

void ws_reader::feed(const char* data, size_t size) {
  if (consumed_ > 0) {
    in_.erase(0, consumed_);
    consumed_ = 0;
  }
  in_.append(data, size);
}

bool ws_reader::idle() {
  if (consumed_ == in_.size() && !in_message_) {
    std::string{}.swap(in_);
    std::string{}.swap(message_);
    consumed_ = 0;
    return true;
  }
  return false;
}

ws_reader::event ws_reader::fail(uint16_t code, std::string_view reason) {
  event ev;
  ev.what = kind::fail;
  ev.code = code;
  ev.reason = reason;
  return ev;
}

ws_reader::event ws_reader::next() {
  for (;;) {
    auto* p = reinterpret_cast<const unsigned char*>(in_.data()) + consumed_;
    size_t avail = in_.size() - consumed_;
    if (avail < 2)
      return {};
    bool fin = p[0] & 0x80;
    uint8_t rsv = p[0] & 0x70;
    uint8_t opcode = p[0] & 0x0f;
    bool masked = p[1] & 0x80;
    uint64_t len = p[1] & 0x7f;
    size_t hdr = 2;
    if (rsv != 0)
      return fail(close_code::protocol_error, "reserved bits set");
    if (!masked)
      return fail(close_code::protocol_error, "client frames must be masked");
    bool control = opcode & 0x8;
    if (control && (!fin || len > 125))
      return fail(close_code::protocol_error, "bad control frame");
    if (len == 126) {
      if (avail < 4)
        return {};
      len = (uint64_t{p[2]} << 8) | p[3];
      hdr = 4;
    } else if (len == 127) {
      if (avail < 10)
        return {};
      len = 0;
      for (int i = 0; i < 8; ++i)
        len = (len << 8) | p[2 + i];
      hdr = 10;
    }
    if (!control && len > max_message_ - message_.size())
      return fail(close_code::too_big, "message too big");
    if (avail < hdr + 4 + len)
      return {};
    const unsigned char* mask = p + hdr;
    const unsigned char* data = mask + 4;
    auto unmask_into = [&](std::string& dst) {
      auto off = dst.size();
      dst.resize(off + len);
      for (size_t i = 0; i < len; ++i)
        dst[off + i] = static_cast<char>(data[i] ^ mask[i & 3]);
    };
    consumed_ += hdr + 4 + len;
    switch (opcode) {
      case 0x0: // continuation
        if (!in_message_)
          return fail(close_code::protocol_error, "continuation without a message");
        unmask_into(message_);
        break;
      case 0x1:
      case 0x2:
        if (in_message_)
          return fail(close_code::protocol_error, "new message inside a fragmented one");
        message_.clear();
        in_message_ = true;
        message_is_text_ = opcode == 0x1;
        unmask_into(message_);
        break;
      case 0x8:
      case 0x9:
      case 0xA: {
        control_.clear();
        unmask_into(control_);
        event ev;
        ev.payload = control_;
        if (opcode == 0x9) {
          ev.what = kind::ping;
        } else if (opcode == 0xA) {
          ev.what = kind::pong;
        } else {
          ev.what = kind::close;
          if (control_.size() == 1)
            return fail(close_code::protocol_error, "bad close payload");
          if (control_.empty()) {
            ev.code = close_code::no_status;
          } else {
            ev.code = static_cast<uint16_t>((static_cast<unsigned char>(control_[0]) << 8)
                                            | static_cast<unsigned char>(control_[1]));
            if (!valid_close_code(ev.code))
              return fail(close_code::protocol_error, "invalid close code");
            if (!valid_utf8(std::string_view{control_}.substr(2)))
              return fail(close_code::invalid_payload, "close reason is not valid UTF-8");
          }
        }
        return ev;
      }
      default:
        return fail(close_code::protocol_error, "unknown opcode");
    }
    if (!fin)
      continue;
    in_message_ = false;
    event ev;
    ev.payload = message_;
    if (message_is_text_) {
      if (!valid_utf8(message_))
        return fail(close_code::invalid_payload, "text frame is not valid UTF-8");
      ev.what = kind::text;
    } else {
      ev.what = kind::binary;
    }
    return ev;
  }
}

} // namespace chat::gateway
