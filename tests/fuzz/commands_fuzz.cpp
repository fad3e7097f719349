// libFuzzer target: arbitrary text through the command codec (JSON parsing and
// validation). Invariant: a command or an error with a code, never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "chat/gateway/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = chat::gateway::parse_command({reinterpret_cast<const char*>(data), size});
  if (auto* err = std::get_if<chat::gateway::command_error>(&r))
    if (err->code == chat::actors::wire_error::none || err->message.empty())
      std::abort();
  return 0;
}
