#include "chat/actors/frame.hpp"

namespace chat::actors {

frame frame::finish(std::string buf, uint8_t opcode) {
  auto len = buf.size() - header_room;
  size_t hdr = len < 126 ? 2 : (len <= 0xffff ? 4 : 10);
  auto offset = static_cast<uint8_t>(header_room - hdr);
  auto* p = reinterpret_cast<unsigned char*>(buf.data()) + offset;
  p[0] = static_cast<unsigned char>(0x80 | opcode);
  if (hdr == 2) {
    p[1] = static_cast<unsigned char>(len);
  } else if (hdr == 4) {
    p[1] = 126;
    p[2] = static_cast<unsigned char>(len >> 8);
    p[3] = static_cast<unsigned char>(len);
  } else {
    p[1] = 127;
    for (int i = 0; i < 8; ++i)
      p[2 + i] = static_cast<unsigned char>(static_cast<uint64_t>(len) >> (56 - 8 * i));
  }
  frame f;
  f.buf_ = std::make_shared<const std::string>(std::move(buf));
  f.offset_ = offset;
  return f;
}

frame frame::from_json(std::string_view json) {
  std::string buf(header_room, '\0');
  buf.append(json);
  return finish(std::move(buf));
}

} // namespace chat::actors
