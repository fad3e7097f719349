#include "command_counts.hpp"

namespace chat::gateway {

void command_counts::write(runtime::prometheus_text& out) const {
  static constexpr const char* result_names[results] = {"forwarded", "answered", "rate_limited",
                                                        "forbidden"};
  out.family("chat_commands_total", "counter",
             "Client commands by type and what the gateway did with them: forwarded to the "
             "connection's actor, answered by the gateway (ping, auth), refused "
             "(rate_limited, forbidden).");
  for (size_t t = 0; t < counts_.size(); ++t)
    for (size_t r = 0; r < results; ++r)
      if (auto n = counts_[t][r].load(std::memory_order_relaxed); n != 0)
        out.sample("chat_commands_total",
                   {{"type", command_name(t)}, {"result", result_names[r]}}, n);
}

} // namespace chat::gateway
