// rooms: R rooms x K members, every member sending r messages/s for T seconds
// (at most `window` unacked each). Every delivery is timed from its send; every
// member checks that its room's seqs arrive gap-free. Over several nodes
// (--ports) it is the `cluster` scenario and also reads each node's /metrics.

#include "harness.hpp"

#include <cstdio>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "http_get.hpp"
#include "stats.hpp"

namespace bench {

namespace {

struct member {
  size_t room = 0;
  int64_t next_seq = 1;
  std::vector<int64_t> next_i; ///< per sender of the room: its next counter
  int64_t out_of_order = 0;
  int64_t owed = 0; ///< sends due but held back by the window
  int64_t in_flight = 0;
  int64_t sent = 0;
};

/// The counters of `/metrics` that show the fan-out between nodes.
struct fanout_counters {
  int64_t room_messages = 0;
  int64_t remote = 0;
  bool ok = true;
};

int64_t metric(const std::string& text, const std::string& name) {
  auto i = text.find("\n" + name + " ");
  if (i == std::string::npos)
    return -1;
  int64_t v = 0;
  number_after(std::string_view{text}.substr(i), name + " ", v);
  return v;
}

fanout_counters read_counters(const options& o) {
  fanout_counters c;
  auto ports = o.ports.empty() ? std::vector<uint16_t>{o.port} : o.ports;
  for (auto port : ports) {
    auto text = http_get(o.host, port, "/metrics");
    auto rooms = text ? metric(*text, "chat_room_messages_total") : -1;
    auto remote = text ? metric(*text, "chat_relay_messages_total{to=\"remote\"}") : -1;
    if (rooms < 0 || remote < 0) {
      c.ok = false;
      continue;
    }
    c.room_messages += rooms;
    c.remote += remote;
  }
  return c;
}

} // namespace

int run_rooms(const options& o) {
  const char* scenario = o.ports.size() > 1 ? "cluster" : "rooms";
  auto w = wire::make(o.protocol);
  asio::io_context ioc{1};
  auto tag = unique_suffix();
  auto R = static_cast<size_t>(o.rooms);
  auto K = static_cast<size_t>(o.members);
  auto N = R * K;
  std::vector<member> members(N);
  std::vector<std::string> room_names(R);
  for (size_t r = 0; r < R; ++r)
    room_names[r] = "bench-rooms-" + tag + "-" + std::to_string(r);
  for (size_t n = 0; n < N; ++n) {
    members[n].room = n / K;
    members[n].next_i.assign(K, 0);
  }
  latency_samples lat;
  int64_t delivered = 0;
  int64_t acked = 0;
  int64_t sent = 0;
  int64_t errors = 0;
  bool sending = false;
  member_sockets ms;
  stall_windows stalls{0, 0};

  auto send_one = [&](size_t n) {
    auto& m = members[n];
    --m.owed;
    ++m.in_flight;
    ++sent;
    // Ids are scoped to the room: unique per member and send.
    bench_body b{now_ns(), static_cast<int64_t>(n), m.sent++};
    ms.sockets[n]->send(w->send(room_names[m.room],
                                std::to_string(n) + "-" + std::to_string(b.i),
                                static_cast<uint64_t>(b.i + 1), b));
  };
  auto confirm = [&](size_t n) {
    auto& m = members[n];
    ++acked;
    --m.in_flight;
    if (sending && m.owed > 0)
      send_one(n);
  };
  ms.quick_ack = true; // a latency run
  ms.user = [&](size_t n) {
    return "m" + std::to_string(n) + "-" + tag;
  };
  ms.room = [&](size_t n) {
    return room_names[n / K];
  };
  ms.on_frame = [&](size_t n, frame_event ev, std::string_view f) {
    auto& m = members[n];
    bench_body b;
    if (ev == frame_event::message && read_body(f, b)) {
      auto now = now_ns();
      lat.add(now - b.t);
      stalls.add(b.t, now - b.t);
      auto from = static_cast<size_t>(b.s) % K;
      if (b.i != m.next_i[from])
        ++m.out_of_order;
      m.next_i[from] = b.i + 1;
      int64_t seq = 0;
      if (number_after(f, "\"seq\":", seq)) {
        if (seq != m.next_seq)
          ++m.out_of_order;
        m.next_seq = seq + 1;
      }
      ++delivered;
      if (!w->acks() && static_cast<size_t>(b.s) == n)
        confirm(n);
    } else if (ev == frame_event::ack) {
      if (f.find("\"dup\":true") != std::string_view::npos)
        ++errors; // ids are unique per run: a dup means a repeated send
      confirm(n);
    } else if (ev == frame_event::error) {
      ++errors;
      --m.in_flight;
    }
  };
  auto cpu0 = own_cpu_seconds();
  if (!connect_and_join(ioc, o, *w, N, ms))
    return 1;
  auto cpu1 = own_cpu_seconds();
  auto before = read_counters(o);

  // Member n's sends fall due at start + (n / N + k) periods: in index order,
  // so one cursor walks them.
  auto period = seconds(1.0 / o.rate);
  auto start = clock::now();
  stalls = stall_windows{now_ns(), std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()};
  auto stop_at = start + seconds(o.seconds);
  size_t cursor = 0;
  auto next_due = start;
  auto due_of = [&](size_t n, int64_t round) {
    return start + period * round + period * static_cast<int64_t>(n) / static_cast<int64_t>(N);
  };
  int64_t round = 0;
  sending = true;
  asio::steady_timer tick{ioc};
  std::function<void()> send_due = [&] {
    auto now = clock::now();
    while (next_due <= now && next_due < stop_at) {
      auto& m = members[cursor];
      ++m.owed;
      if (m.in_flight < o.window)
        send_one(cursor);
      if (++cursor == N) {
        cursor = 0;
        ++round;
      }
      next_due = due_of(cursor, round);
    }
    if (now >= stop_at)
      return;
    tick.expires_after(std::chrono::milliseconds(1));
    tick.async_wait([&](boost::system::error_code ec) {
      if (!ec)
        send_due();
    });
  };
  send_due();
  run_until(ioc, stop_at, [] {
    return false;
  });
  sending = false;
  tick.cancel();
  auto send_end = clock::now();
  int64_t backlog = 0;
  for (auto& m : members)
    backlog += m.owed;
  // Drain: until every acked message reached all K members, or no progress.
  auto last_progress = clock::now();
  int64_t last_count = -1;
  while (acked + errors < sent || delivered < acked * static_cast<int64_t>(K)) {
    ioc.run_one_for(std::chrono::milliseconds(50));
    if (delivered + acked != last_count) {
      last_count = delivered + acked;
      last_progress = clock::now();
    } else if (clock::now() - last_progress > seconds(o.drain_seconds)) {
      break;
    }
  }
  auto cpu2 = own_cpu_seconds();
  auto after = read_counters(o);
  double secs = std::chrono::duration<double>(send_end - start).count();
  auto run_secs = std::chrono::duration<double>(clock::now() - start).count();
  double loadgen_cpu = run_secs > 0 ? (cpu2 - cpu1) / run_secs : 0;
  int64_t out_of_order = 0;
  for (auto& m : members)
    out_of_order += m.out_of_order;
  auto expected = acked * static_cast<int64_t>(K);
  auto lost = expected - delivered;
  auto room_msgs = after.room_messages - before.room_messages;
  double per_msg = before.ok && after.ok && room_msgs > 0
                     ? static_cast<double>(after.remote - before.remote) / room_msgs
                     : -1;
  char line[768];
  std::snprintf(
    line, sizeof line,
    R"({"scenario":"%s","protocol":"%s","nodes":%zu,"rooms":%zu,"members":%zu,"rate":%g,"window":%d,)"
    R"("seconds":%.3f,"sent":%lld,"acked":%lld,"errors":%lld,"backlog":%lld,)"
    R"("deliveries":%lld,"lost":%lld,"out_of_order":%lld,"acked_per_s":%.0f,)"
    R"("deliveries_per_s":%.0f,"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"p999_ms":%.3f,)"
    R"("max_ms":%.3f,"inter_node_per_room_msg":%.3f,"loadgen_cpu":%.2f,"connect_cpu_s":%.2f})",
    scenario, w->name(), o.ports.empty() ? size_t{1} : o.ports.size(), R, K, o.rate, o.window,
    secs, static_cast<long long>(sent), static_cast<long long>(acked),
    static_cast<long long>(errors), static_cast<long long>(backlog),
    static_cast<long long>(delivered), static_cast<long long>(lost),
    static_cast<long long>(out_of_order), secs > 0 ? acked / secs : 0.0,
    secs > 0 ? delivered / secs : 0.0, lat.quantile_ms(0.5), lat.quantile_ms(0.9),
    lat.quantile_ms(0.99), lat.quantile_ms(0.999), lat.quantile_ms(1.0), per_msg, loadgen_cpu,
    cpu1 - cpu0);
  std::cout << line << std::endl;
  std::fprintf(stderr,
               "%s: %zu rooms x %zu members at %g msg/s each over %zu node(s): %.0f acked/s, "
               "%.0f deliveries/s, p50 %.2f ms, p99 %.2f ms, lost %lld, out of order %lld, "
               "errors %lld, backlog %lld, inter-node messages per room message %.2f; "
               "load generator at %.0f%% of a core\n",
               scenario, R, K, o.rate, o.ports.empty() ? size_t{1} : o.ports.size(),
               secs > 0 ? acked / secs : 0.0, secs > 0 ? delivered / secs : 0.0,
               lat.quantile_ms(0.5), lat.quantile_ms(0.99), static_cast<long long>(lost),
               static_cast<long long>(out_of_order), static_cast<long long>(errors),
               static_cast<long long>(backlog), per_msg, loadgen_cpu * 100);
  if (o.stalls_over_ms > 0)
    stalls.print(stderr, o.stalls_over_ms);
  for (auto& s : ms.sockets)
    s->close();
  ioc.run_for(std::chrono::milliseconds(300));
  return lost == 0 && out_of_order == 0 && errors == 0 ? 0 : 3;
}

} // namespace bench
