#include "harness.hpp"

#include <cstdio>
#include <vector>

#include "stats.hpp"

namespace bench {

int run_durable(const options& o) {
  asio::io_context ioc{1};
  auto suffix = unique_suffix();
  auto P = static_cast<size_t>(o.publishers);
  struct publisher {
    std::shared_ptr<ws_client> ws;
    std::string room;
    int64_t sent = 0;
    int64_t acked = 0;
    std::vector<int64_t> sent_at; // by index: send time
    bool joined = false;
  };
  std::vector<publisher> pubs(P);
  latency_samples lat;
  int64_t total_sent = 0;
  int64_t total_acked = 0;
  int64_t errors = 0;
  int64_t dups = 0;
  size_t joined = 0;
  bool sending = false;

  auto send_next = [&](publisher& p) {
    auto idx = p.sent++;
    ++total_sent;
    p.sent_at.push_back(now_ns());
    p.ws->send(R"({"type":"send","room":")" + p.room + R"(","id":"d)" + std::to_string(idx)
               + R"(","ref":)" + std::to_string(idx) + R"(,"body":{"i":)" + std::to_string(idx)
               + "}}");
  };
  bool ok = connect_all(
    ioc, o, P,
    [&](size_t i) {
      pubs[i].room = "bench-durable-" + suffix + "-" + std::to_string(i);
      pubs[i].ws = ws_client::make(ioc, [&, i](std::string_view f) {
        auto& p = pubs[i];
        if (is_type(f, "ack")) {
          int64_t ref = 0;
          number_after(f, "\"ref\":", ref);
          if (ref >= 0 && ref < static_cast<int64_t>(p.sent_at.size()))
            lat.add(now_ns() - p.sent_at[static_cast<size_t>(ref)]);
          if (f.find("\"dup\":true") != std::string_view::npos)
            ++dups;
          ++p.acked;
          ++total_acked;
          if (sending && total_sent < o.max_messages)
            send_next(p);
        } else if (is_type(f, "error")) {
          ++errors;
        } else if (is_type(f, "joined")) {
          p.joined = true;
          ++joined;
        }
      });
      return pubs[i].ws;
    },
    [](size_t i) {
      return "/ws?user=bench" + std::to_string(i);
    },
    [&](size_t i) {
      pubs[i].ws->send(R"({"type":"join","room":")" + pubs[i].room + R"("})");
    });
  if (!ok)
    return 1;
  run_until(ioc, clock::now() + std::chrono::seconds(30), [&] {
    return joined == P;
  });
  if (joined != P) {
    std::cerr << "chat-bench: only " << joined << " of " << P << " publishers joined\n";
    return 1;
  }
  sending = true;
  auto start = clock::now();
  for (auto& p : pubs)
    for (int k = 0; k < o.window && total_sent < o.max_messages; ++k)
      send_next(p);
  auto stop_at = start + seconds(o.seconds);
  run_until(ioc, stop_at, [&] {
    return total_sent >= o.max_messages && total_acked == total_sent;
  });
  sending = false;
  auto send_end = clock::now();
  int64_t acked_in_window = total_acked;
  run_until(ioc, clock::now() + seconds(o.drain_seconds), [&] {
    return total_acked == total_sent;
  });
  double secs = std::chrono::duration<double>(send_end - start).count();
  auto unacked = total_sent - total_acked;
  char line[512];
  std::snprintf(line, sizeof line,
                R"({"scenario":"durable","publishers":%zu,"window":%d,"seconds":%.3f,)"
                R"("acked":%lld,"acked_per_s":%.0f,"unacked":%lld,"errors":%lld,"dups":%lld,)"
                R"("p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f})",
                P, o.window, secs, static_cast<long long>(total_acked),
                secs > 0 ? static_cast<double>(acked_in_window) / secs : 0.0,
                static_cast<long long>(unacked), static_cast<long long>(errors),
                static_cast<long long>(dups), lat.quantile_ms(0.5), lat.quantile_ms(0.99),
                lat.quantile_ms(1.0));
  std::cout << line << '\n';
  std::fprintf(stderr,
               "durable: %zu publishers, window %d: %.0f acked sends/s, ack p50 %.2f ms, "
               "p99 %.2f ms, unacked %lld, errors %lld\n",
               P, o.window, secs > 0 ? acked_in_window / secs : 0.0, lat.quantile_ms(0.5),
               lat.quantile_ms(0.99), static_cast<long long>(unacked),
               static_cast<long long>(errors));
  for (auto& p : pubs)
    p.ws->close();
  ioc.run_for(std::chrono::milliseconds(200));
  return unacked == 0 && errors == 0 && dups == 0 ? 0 : 3;
}

} // namespace bench
