#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>

#include "chat/actors/wire.hpp"
#include "chat/actors/wire_error.hpp"

namespace chat::actors {

/// One outbound event, serialized once and shared by every local recipient.
///
/// The buffer holds a WebSocket frame header followed by the JSON payload. Server
/// frames are unmasked, so the complete frame is identical for every recipient and
/// a session can hand it to writev untouched; other transports use `json()`.
class frame {
public:
  frame() = default;

  /// The bytes to put on a WebSocket, header included.
  [[nodiscard]] std::string_view ws_bytes() const noexcept {
    return {buf_->data() + offset_, buf_->size() - offset_};
  }

  /// The JSON text alone.
  [[nodiscard]] std::string_view json() const noexcept {
    return {buf_->data() + header_room, buf_->size() - header_room};
  }

  [[nodiscard]] size_t size() const noexcept { return buf_->size() - offset_; }

  /// The error code of an error frame (`none` for any other).
  [[nodiscard]] wire_error error() const noexcept { return error_; }
  /// Marks a frame just written as an error frame with `code` (error_event does).
  void set_error(wire_error code) noexcept { error_ = code; }
  [[nodiscard]] explicit operator bool() const noexcept { return buf_ != nullptr; }

  /// Space reserved in front of the payload for the largest frame header.
  static constexpr size_t header_room = 10;

  /// Takes a buffer of `header_room` reserved bytes followed by the payload and
  /// writes the WebSocket header for a final frame of `opcode` in front of it.
  static frame finish(std::string buf, uint8_t opcode = 0x1);

  /// A text frame holding `json` (a frame that arrived from another node).
  static frame from_json(std::string_view json);

private:
  std::shared_ptr<const std::string> buf_;
  uint8_t offset_ = 0;
  wire_error error_ = wire_error::none; // in the padding after offset_: no extra bytes
};

} // namespace chat::actors

namespace chat::msg {
CHAT_WIRE_NAME(actors::frame, "chat::frame")
} // namespace chat::msg

namespace chat::actors {

/// Crosses nodes as its JSON text and error code; the receiving node frames it
/// again, once, and shares it among its local recipients like any other frame.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame& x) {
  std::string json = x ? std::string{x.json()} : std::string{};
  auto code = static_cast<uint8_t>(x.error());
  auto load = caf::meta::load_callback([&]() -> caf::error {
    x = json.empty() ? frame{} : frame::from_json(json);
    x.set_error(code <= static_cast<uint8_t>(last_wire_error) ? static_cast<wire_error>(code)
                                                              : wire_error::internal);
    return caf::none;
  });
  return f(caf::meta::type_name(msg::wire_name<frame>::value), json, code, load);
}

} // namespace chat::actors
