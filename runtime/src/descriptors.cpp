#include "chat/runtime/descriptors.hpp"

#include <algorithm>

#include <sys/resource.h>

namespace chat::runtime {

descriptor_budget raise_descriptor_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return {1024, 256, 768};
  if (rl.rlim_cur < rl.rlim_max) {
    auto raised = rl;
    raised.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
      rl = raised;
  }
  // RLIM_INFINITY is not a count: stay with what one process can sensibly use.
  auto limit =
    rl.rlim_cur == RLIM_INFINITY ? size_t{1} << 20 : static_cast<size_t>(rl.rlim_cur);
  descriptor_budget b;
  b.limit = limit;
  b.reserve = std::min<size_t>(1024, limit / 4);
  b.sockets = limit - b.reserve;
  return b;
}

} // namespace chat::runtime
