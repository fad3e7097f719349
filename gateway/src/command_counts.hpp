#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string_view>
#include <variant>

#include "chat/gateway/codec.hpp"
#include "chat/runtime/prometheus.hpp"

namespace chat::gateway {

/// What the command gate did with a client command (screen_command).
enum class gate_result : uint8_t { forwarded, answered, rate_limited, forbidden };

/// Client commands by type and by what the gate did with them, for /metrics
/// (`chat_commands_total{type,result}`). Relaxed atomics, shared by every
/// session of a server.
class command_counts {
public:
  void count(const command& cmd, gate_result r) {
    counts_[cmd.index()][static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }

  void write(runtime::prometheus_text& out) const;

private:
  static constexpr size_t results = 4;
  std::array<std::array<std::atomic<uint64_t>, results>, std::variant_size_v<command>>
    counts_{};
};

} // namespace chat::gateway
