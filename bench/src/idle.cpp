// idle: C sockets connect, each joins a room (shared by K sockets), and all
// stay idle for T seconds; the server's resident memory (VmRSS of the given
// PIDs, summed: nginx's master and worker) is read before and after.

#include "harness.hpp"

#include <cstdio>
#include <fstream>
#include <vector>

namespace bench {

namespace {

// Resident set of the processes in KiB; -1 when one cannot be read.
int64_t rss_kib(const std::vector<int>& pids) {
  int64_t sum = 0;
  for (auto pid : pids) {
    std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
    std::string key;
    int64_t kib = -1;
    while (in >> key) {
      if (key == "VmRSS:") {
        in >> kib;
        break;
      }
      in.ignore(4096, '\n');
    }
    if (kib < 0)
      return -1;
    sum += kib;
  }
  return sum;
}

} // namespace

int run_idle(const options& o) {
  auto w = wire::make(o.protocol);
  asio::io_context ioc{1};
  auto tag = unique_suffix();
  auto C = static_cast<size_t>(o.connections);
  auto K = static_cast<size_t>(o.members);
  auto base = rss_kib(o.server_pids);
  if (base < 0) {
    std::cerr << "chat-bench: cannot read VmRSS of the --server-pids\n";
    return 2;
  }
  int64_t unexpected = 0; // frames other than the protocol's own (pings etc.)
  member_sockets ms;
  ms.user = [&](size_t i) {
    return "idle" + std::to_string(i) + "-" + tag;
  };
  ms.room = [&](size_t i) {
    return "bench-idle-" + tag + "-" + std::to_string(i / K);
  };
  ms.on_frame = [&](size_t, frame_event ev, std::string_view) {
    if (ev == frame_event::message || ev == frame_event::error)
      ++unexpected;
  };
  auto start = clock::now();
  if (!connect_and_join(ioc, o, *w, C, ms))
    return 1;
  auto connect_secs = std::chrono::duration<double>(clock::now() - start).count();
  auto joined = rss_kib(o.server_pids);
  std::fprintf(stderr, "idle (%s): %zu sockets joined in %.1f s; holding them %.0f s\n",
               w->name(), C, connect_secs, o.seconds);
  run_until(ioc, clock::now() + seconds(o.seconds), [] {
    return false;
  });
  auto held = rss_kib(o.server_pids);
  double per_conn = static_cast<double>(held - base) / static_cast<double>(C);
  char line[512];
  std::snprintf(line, sizeof line,
                R"({"scenario":"idle","protocol":"%s","connections":%zu,"members":%zu,)"
                R"("seconds":%.1f,"connect_s":%.2f,"rss_base_kib":%lld,"rss_joined_kib":%lld,)"
                R"("rss_held_kib":%lld,"kib_per_connection":%.2f,"unexpected":%lld})",
                w->name(), C, K, o.seconds, connect_secs, static_cast<long long>(base),
                static_cast<long long>(joined), static_cast<long long>(held), per_conn,
                static_cast<long long>(unexpected));
  std::cout << line << std::endl;
  std::fprintf(stderr,
               "idle (%s): RSS %lld KiB before, %lld KiB with %zu sockets after %.0f s: "
               "%.2f KiB per connection\n",
               w->name(), static_cast<long long>(base), static_cast<long long>(held), C,
               o.seconds, per_conn);
  for (auto& s : ms.sockets)
    s->close();
  ioc.run_for(std::chrono::milliseconds(500));
  return unexpected == 0 ? 0 : 3;
}

} // namespace bench
