#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace chat::gateway {

/// WebSocket close codes used by the gateway (RFC 6455 section 7.4 + PROTOCOL.md).
namespace close_code {
inline constexpr uint16_t normal = 1000;
inline constexpr uint16_t going_away = 1001;
inline constexpr uint16_t protocol_error = 1002;
inline constexpr uint16_t unsupported = 1003;
inline constexpr uint16_t invalid_payload = 1007;
inline constexpr uint16_t policy = 1008;
inline constexpr uint16_t too_big = 1009;
inline constexpr uint16_t try_again_later = 1013;
/// What a close frame without a payload reports (never sent on the wire).
inline constexpr uint16_t no_status = 1005;
} // namespace close_code

/// The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key.
[[nodiscard]] std::string websocket_accept_key(std::string_view client_key);

/// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
[[nodiscard]] bool valid_utf8(std::string_view s);

/// True for a close code a peer may send (RFC 6455 section 7.4, IANA registry).
[[nodiscard]] bool valid_close_code(uint16_t code);

/// An incremental reader of client frames (RFC 6455 section 5): unmasking,
/// fragmentation, control frames, the message size limit, UTF-8 of text.
/// It holds no buffer while the connection is idle.
class ws_reader {
public:
  enum class kind { need_more, text, binary, ping, pong, close, fail };

  struct event {
    kind what = kind::need_more;
    std::string_view payload; ///< valid until the next call
    uint16_t code =
      0; ///< close: the peer's valid code (1005: none); fail: the code to close with
    std::string_view reason; ///< fail: why
  };

  explicit ws_reader(size_t max_message_bytes) : max_message_(max_message_bytes) {}

  /// Appends received bytes.
  void feed(const char* data, size_t size);

  /// The next complete event, or need_more. After `fail`, stop reading.
  event next();

  /// True when nothing is buffered (releases memory of the last burst).
  bool idle();

private:
  event fail(uint16_t code, std::string_view reason);

  std::string in_;      ///< received, not yet consumed
  size_t consumed_ = 0; ///< bytes of in_ already handed out
  std::string message_; ///< fragments of the message being assembled
  std::string control_; ///< payload of the last control frame
  bool in_message_ = false;
  bool message_is_text_ = false;
  size_t max_message_;
};

} // namespace chat::gateway
