// fanout: 1 room, S subscribers, 1 publisher sending M messages with at most
// `window` unconfirmed. Every delivery is timed from its send and checked for
// order (the publisher's counter, and chatd's seq where the protocol has one).

#include "harness.hpp"

#include <cstdio>
#include <vector>

#include "stats.hpp"

namespace bench {

namespace {

struct subscriber {
  int64_t next_i = 0;
  int64_t received = 0;
  int64_t out_of_order = 0;
};

} // namespace

int run_fanout(const options& o) {
  auto w = wire::make(o.protocol);
  asio::io_context ioc{1};
  auto room = "bench-fanout-" + unique_suffix();
  auto S = static_cast<size_t>(o.subscribers);
  auto M = static_cast<int64_t>(o.messages);
  std::vector<subscriber> subs(S);
  latency_samples lat;
  lat.reserve(S * static_cast<size_t>(M));
  int64_t delivered = 0;
  clock::time_point first_send;
  clock::time_point last_delivery;

  member_sockets subscribers;
  subscribers.user = [](size_t i) {
    return "bench" + std::to_string(i);
  };
  subscribers.room = [&](size_t) {
    return room;
  };
  subscribers.on_frame = [&](size_t i, frame_event ev, std::string_view f) {
    bench_body b;
    if (ev != frame_event::message || !read_body(f, b))
      return;
    auto& s = subs[i];
    lat.add(now_ns() - b.t);
    if (b.i != s.next_i)
      ++s.out_of_order;
    s.next_i = b.i + 1;
    ++s.received;
    ++delivered;
    last_delivery = clock::now();
  };
  auto cpu0 = own_cpu_seconds();
  if (!connect_and_join(ioc, o, *w, S, subscribers))
    return 1;

  int64_t sent = 0;
  int64_t confirmed = 0;
  int64_t errors = 0;
  member_sockets pub;
  pub.offset = S;
  auto send_next = [&] {
    bench_body b{now_ns(), 0, sent};
    ++sent;
    pub.sockets[0]->send(
      w->send(room, "p" + std::to_string(b.i), static_cast<uint64_t>(sent), b));
  };
  pub.user = [](size_t) {
    return std::string{"publisher"};
  };
  pub.room = [&](size_t) {
    return room;
  };
  pub.on_frame = [&](size_t, frame_event ev, std::string_view) {
    // The confirmation: an ack, or (nchan) the publisher's own message back.
    auto confirms = w->acks() ? ev == frame_event::ack : ev == frame_event::message;
    if (ev == frame_event::error)
      ++errors;
    if (!confirms && ev != frame_event::error)
      return;
    ++confirmed;
    if (sent < M)
      send_next();
  };
  if (!connect_and_join(ioc, o, *w, 1, pub))
    return 1;
  auto cpu1 = own_cpu_seconds();
  first_send = clock::now();
  for (int k = 0; k < o.window && sent < M; ++k)
    send_next();

  auto expected = static_cast<int64_t>(S) * M;
  // Bounded: at most drain_seconds without progress, and 600 s in all.
  auto hard_deadline = clock::now() + std::chrono::seconds(600);
  auto last_progress = clock::now();
  int64_t last_count = -1;
  while (delivered < expected && clock::now() < hard_deadline) {
    ioc.run_one_for(std::chrono::milliseconds(50));
    if (delivered + confirmed != last_count) {
      last_count = delivered + confirmed;
      last_progress = clock::now();
    } else if (clock::now() - last_progress > seconds(o.drain_seconds)) {
      break;
    }
  }
  auto cpu2 = own_cpu_seconds();
  int64_t out_of_order = 0;
  for (auto& s : subs)
    out_of_order += s.out_of_order;
  double secs = std::chrono::duration<double>(last_delivery - first_send).count();
  auto lost = expected - delivered;
  auto run_secs = std::chrono::duration<double>(clock::now() - first_send).count();
  double loadgen_cpu = run_secs > 0 ? (cpu2 - cpu1) / run_secs : 0;
  char line[768];
  std::snprintf(
    line, sizeof line,
    R"({"scenario":"fanout","protocol":"%s","subscribers":%zu,"messages":%lld,)"
    R"("window":%d,"deliveries":%lld,"lost":%lld,"out_of_order":%lld,"errors":%lld,)"
    R"("seconds":%.3f,"deliveries_per_s":%.0f,"p50_ms":%.3f,"p90_ms":%.3f,)"
    R"("p99_ms":%.3f,"max_ms":%.3f,"loadgen_cpu":%.2f,"connect_cpu_s":%.2f})",
    w->name(), S, static_cast<long long>(M), o.window, static_cast<long long>(delivered),
    static_cast<long long>(lost), static_cast<long long>(out_of_order),
    static_cast<long long>(errors), secs,
    secs > 0 ? static_cast<double>(delivered) / secs : 0.0, lat.quantile_ms(0.5),
    lat.quantile_ms(0.9), lat.quantile_ms(0.99), lat.quantile_ms(1.0), loadgen_cpu,
    cpu1 - cpu0);
  std::cout << line << std::endl;
  std::fprintf(stderr,
               "fanout (%s): %zu subscribers x %lld messages: %.0f deliveries/s, p50 %.2f ms, "
               "p99 %.2f ms, max %.2f ms, lost %lld, out of order %lld, errors %lld; "
               "load generator at %.0f%% of a core\n",
               w->name(), S, static_cast<long long>(M), secs > 0 ? delivered / secs : 0.0,
               lat.quantile_ms(0.5), lat.quantile_ms(0.99), lat.quantile_ms(1.0),
               static_cast<long long>(lost), static_cast<long long>(out_of_order),
               static_cast<long long>(errors), loadgen_cpu * 100);
  for (auto& s : subscribers.sockets)
    s->close();
  pub.sockets[0]->close();
  ioc.run_for(std::chrono::milliseconds(200));
  return lost == 0 && out_of_order == 0 && errors == 0 ? 0 : 3;
}

} // namespace bench
