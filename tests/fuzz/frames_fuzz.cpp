// libFuzzer target: arbitrary client bytes through the WebSocket frame reader,
// split into arbitrary chunks, and every complete text message through the
// command codec. Invariant: no crash, no hang, payloads within the size limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "chat/gateway/codec.hpp"
#include "chat/gateway/ws_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr size_t limit = 4096;
  chat::gateway::ws_reader reader{limit};
  size_t pos = 0;
  while (pos < size) {
    // The first byte of each chunk picks the chunk length.
    size_t chunk = 1 + data[pos] % 64;
    ++pos;
    chunk = std::min(chunk, size - pos);
    reader.feed(reinterpret_cast<const char*>(data + pos), chunk);
    pos += chunk;
    for (;;) {
      auto ev = reader.next();
      if (ev.what == chat::gateway::ws_reader::kind::need_more)
        break;
      if (ev.what == chat::gateway::ws_reader::kind::fail)
        return 0;
      if (ev.payload.size() > limit)
        std::abort();
      if (ev.what == chat::gateway::ws_reader::kind::text)
        (void)chat::gateway::parse_command(ev.payload);
    }
    reader.idle();
  }
  return 0;
}
