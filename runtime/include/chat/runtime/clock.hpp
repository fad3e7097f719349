#pragma once

#include <chrono>
#include <cstdint>

namespace chat::runtime {

/// Wall-clock time in ms since the epoch: message `ts`, `last_seen`.
inline int64_t wall_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Wall-clock time in s since the epoch: JWT `exp`.
inline int64_t wall_s() {
  using namespace std::chrono;
  return duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
}

/// Wall-clock time in µs since the epoch: latencies measured across nodes.
inline int64_t wall_us() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

/// The wall-clock time (ms since the epoch) of the steady-clock instant `t`,
/// `now` being the steady clock now; 0 for the clock's epoch (never set).
inline int64_t wall_ms_of(std::chrono::steady_clock::time_point t,
                          std::chrono::steady_clock::time_point now) {
  using namespace std::chrono;
  if (t == steady_clock::time_point{})
    return 0;
  return wall_ms() - duration_cast<milliseconds>(now - t).count();
}

/// Monotonic time in ms, for intervals (throttles) that must not jump.
inline int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

} // namespace chat::runtime
