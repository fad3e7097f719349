// libFuzzer target: what GET /sse and GET /poll read from a request (rooms,
// since, Last-Event-ID, cursors) and the event reader of the SSE writer. Input:
// a request target, optionally a newline and a Last-Event-ID value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chat/gateway/codec.hpp"
#include "chat/gateway/stream_format.hpp"

using namespace chat::gateway;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto nl = text.find('\n');
  std::optional<std::string_view> last_event_id;
  if (nl != std::string_view::npos)
    last_event_id = text.substr(nl + 1);
  if (auto t = parse_target(text.substr(0, nl))) {
    auto r = parse_stream_request(*t, last_event_id);
    if (auto* req = std::get_if<stream_request>(&r)) {
      if (req->rooms.size() != req->since.size() || req->rooms.size() > max_stream_rooms)
        std::abort();
      for (auto& room : req->rooms)
        if (!valid_room_name(room))
          std::abort();
    }
  }
  if (auto c = parse_cursor(text)) {
    auto again = parse_cursor(format_cursor(*c));
    if (!again || again->stream != c->stream || again->count != c->count)
      std::abort();
  }
  auto meta = read_event_meta(text);
  if (!meta.room.empty() && meta.room.data() + meta.room.size() > text.data() + text.size())
    std::abort();
  return 0;
}
