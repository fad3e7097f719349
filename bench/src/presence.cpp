#include "harness.hpp"

#include <cstdio>
#include <random>
#include <unordered_map>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "stats.hpp"

namespace bench {

int run_presence(const options& o) {
  asio::io_context ioc{1};
  auto tag = unique_suffix();
  auto W = static_cast<size_t>(o.watchers);
  auto F = static_cast<size_t>(o.flappers);
  auto flapper_name = [&](size_t i) {
    return "flap" + std::to_string(i) + "-" + tag;
  };
  struct flapper {
    std::shared_ptr<ws_client> ws;
    bool connected = false;
    bool connecting = false;
    int64_t changed_online_ms = 0;  ///< when it last came online (handshake done)
    int64_t changed_offline_ms = 0; ///< when it last closed
    clock::time_point next_toggle;
    int64_t changes = 0;
  };
  std::vector<flapper> flappers(F);
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < F; ++i)
    index.emplace(flapper_name(i), i);
  std::vector<std::shared_ptr<ws_client>> watchers(W);
  latency_samples lat;
  int64_t events = 0;
  int64_t unmatched = 0;
  size_t ready = 0;
  bool measuring = false;

  bool ok = connect_all(
    ioc, o, W,
    [&](size_t j) {
      watchers[j] = ws_client::make(ioc, [&](std::string_view f) {
        if (is_type(f, "presence")) {
          if (!measuring)
            return;
          ++events;
          auto user = string_after(f, "\"user\":\"");
          auto status = string_after(f, "\"status\":\"");
          auto it = index.find(std::string{user});
          if (it == index.end()) {
            ++unmatched;
            return;
          }
          auto& fl = flappers[it->second];
          auto since = status == "online" ? fl.changed_online_ms : fl.changed_offline_ms;
          if (since > 0)
            lat.add((wall_ms() - since) * 1000000);
        } else if (is_type(f, "presence_state")) {
          ++ready;
        }
      });
      return watchers[j];
    },
    [](size_t j) {
      return "/ws?user=bench" + std::to_string(j);
    },
    [&](size_t j) {
      std::string cmd = R"({"type":"presence","users":[)";
      for (int k = 0; k < o.watch_each; ++k) {
        if (k > 0)
          cmd += ',';
        cmd += '"' + flapper_name((j * static_cast<size_t>(o.watch_each) + k) % F) + '"';
      }
      watchers[j]->send(cmd + "]}");
    });
  if (!ok)
    return 1;
  run_until(ioc, clock::now() + std::chrono::seconds(60), [&] {
    return ready == W;
  });
  if (ready != W) {
    std::cerr << "chat-bench: only " << ready << " of " << W
              << " watchers got presence_state\n";
    return 1;
  }

  // Each flapping user toggles every period, phases spread evenly.
  std::mt19937 rng{42};
  auto start = clock::now();
  auto period = std::chrono::milliseconds(o.flap_period_ms);
  for (size_t i = 0; i < F; ++i)
    flappers[i].next_toggle =
      start + period * static_cast<int64_t>(i) / static_cast<int64_t>(F);
  measuring = true;
  int64_t changes = 0;
  auto stop_at = start + seconds(o.seconds);
  asio::steady_timer tick{ioc};
  std::function<void()> toggle_due = [&] {
    auto now = clock::now();
    if (now >= stop_at)
      return;
    for (size_t i = 0; i < F; ++i) {
      auto& fl = flappers[i];
      if (fl.connecting || now < fl.next_toggle)
        continue;
      fl.next_toggle = now + period;
      if (fl.connected) {
        fl.ws->close();
        fl.connected = false;
        fl.changed_offline_ms = wall_ms();
        ++changes;
      } else {
        fl.connecting = true;
        fl.ws = ws_client::make(ioc, [](std::string_view) {});
        fl.ws->connect(source_ip(o, W + i), o.host, port_of(o, W + i),
                       "/ws?user=" + flapper_name(i), [&, i](const std::string& err) {
                         auto& fl = flappers[i];
                         fl.connecting = false;
                         if (!err.empty())
                           return;
                         fl.connected = true;
                         fl.changed_online_ms = wall_ms();
                         ++changes;
                       });
      }
    }
    tick.expires_after(std::chrono::milliseconds(5));
    tick.async_wait([&](boost::system::error_code ec) {
      if (!ec)
        toggle_due();
    });
  };
  toggle_due();
  run_until(ioc, stop_at, [] {
    return false;
  });
  tick.cancel();
  // Let the last publications (coalescing window, TTL-free closes) arrive.
  run_until(ioc, clock::now() + std::chrono::seconds(2), [] {
    return false;
  });
  double secs = o.seconds;
  char line[512];
  std::snprintf(line, sizeof line,
                R"({"scenario":"presence","watchers":%zu,"watch_each":%d,"flappers":%zu,)"
                R"("flap_period_ms":%d,"seconds":%.3f,"changes":%lld,"events":%lld,)"
                R"("events_per_s":%.0f,"unmatched":%lld,"p50_ms":%.3f,"p99_ms":%.3f,)"
                R"("max_ms":%.3f})",
                W, o.watch_each, F, o.flap_period_ms, secs, static_cast<long long>(changes),
                static_cast<long long>(events), events / secs,
                static_cast<long long>(unmatched), lat.quantile_ms(0.5), lat.quantile_ms(0.99),
                lat.quantile_ms(1.0));
  std::cout << line << '\n';
  std::fprintf(stderr,
               "presence: %zu watchers x %d users, %zu flapping every %d ms: %lld changes, "
               "%.0f events/s delivered, delay p50 %.1f ms, p99 %.1f ms\n",
               W, o.watch_each, F, o.flap_period_ms, static_cast<long long>(changes),
               events / secs, lat.quantile_ms(0.5), lat.quantile_ms(0.99));
  for (auto& w : watchers)
    w->close();
  for (auto& fl : flappers)
    if (fl.connected)
      fl.ws->close();
  ioc.run_for(std::chrono::milliseconds(300));
  return 0;
}

} // namespace bench
