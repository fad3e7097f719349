// libFuzzer target: arbitrary request targets through the path/query parser
// (percent-decoding, parameter limits) and the number parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chat/gateway/http_query.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  if (auto t = chat::gateway::parse_target(text)) {
    if (t->path.empty() || t->path.front() != '/' || t->params.size() > 32)
      std::abort();
    for (auto& [k, v] : t->params)
      (void)chat::gateway::parse_uint(v);
  }
  (void)chat::gateway::parse_uint(text);
  return 0;
}
