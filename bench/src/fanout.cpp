#include "harness.hpp"

#include <cstdio>
#include <vector>

#include "stats.hpp"

namespace bench {

namespace {

struct subscriber {
  std::shared_ptr<ws_client> ws;
  int64_t next_seq = 1;
  int64_t received = 0;
  int64_t out_of_order = 0;
  bool joined = false;
};

} // namespace

int run_fanout(const options& o) {
  asio::io_context ioc{1};
  auto room = "bench-fanout-" + unique_suffix();
  auto S = static_cast<size_t>(o.subscribers);
  auto M = static_cast<int64_t>(o.messages);
  std::vector<subscriber> subs(S);
  latency_samples lat;
  lat.reserve(S * static_cast<size_t>(M));
  int64_t delivered = 0;
  size_t joined = 0;
  clock::time_point first_send;
  clock::time_point last_delivery;

  auto join_frame = R"({"type":"join","room":")" + room + R"("})";
  bool ok = connect_all(
    ioc, o, S,
    [&](size_t i) {
      subs[i].ws = ws_client::make(ioc, [&, i](std::string_view f) {
        auto& s = subs[i];
        if (is_type(f, "message")) {
          int64_t seq = 0;
          int64_t t = 0;
          number_after(f, "\"seq\":", seq);
          if (number_after(f, "\"t\":", t))
            lat.add(now_ns() - t);
          if (seq != s.next_seq)
            ++s.out_of_order;
          s.next_seq = seq + 1;
          ++s.received;
          ++delivered;
          last_delivery = clock::now();
        } else if (is_type(f, "joined")) {
          s.joined = true;
          ++joined;
        }
      });
      return subs[i].ws;
    },
    [](size_t i) { return "/ws?user=bench" + std::to_string(i); },
    [&](size_t i) {
      subs[i].ws->send(join_frame);
    });
  if (!ok)
    return 1;
  run_until(ioc, clock::now() + std::chrono::seconds(30), [&] {
    return joined == S;
  });
  if (joined != S) {
    std::cerr << "chat-bench: only " << joined << " of " << S << " subscribers joined\n";
    return 1;
  }

  int64_t sent = 0;
  int64_t acked = 0;
  bool pub_joined = false;
  std::shared_ptr<ws_client> pub;
  auto send_next = [&] {
    std::string f = R"({"type":"send","room":")" + room + R"(","id":"p)" + std::to_string(sent)
                    + R"(","body":{"t":)" + std::to_string(now_ns()) + R"(,"i":)"
                    + std::to_string(sent) + "}}";
    ++sent;
    pub->send(std::move(f));
  };
  pub = ws_client::make(ioc, [&](std::string_view f) {
    if (is_type(f, "ack")) {
      ++acked;
      if (sent < M)
        send_next();
    } else if (is_type(f, "joined")) {
      pub_joined = true;
      first_send = clock::now();
      for (int k = 0; k < o.window && sent < M; ++k)
        send_next();
    }
  });
  std::string pub_err = "pending";
  pub->connect(source_ip(o, S), o.host, port_of(o, S), "/ws?user=publisher",
               [&](const std::string& err) {
                 pub_err = err;
                 if (err.empty())
                   pub->send(join_frame);
               });
  auto expected = static_cast<int64_t>(S) * M;
  // Bounded: at most drain_seconds after the last ack, plus the send phase.
  auto hard_deadline = clock::now() + std::chrono::seconds(600);
  auto last_progress = clock::now();
  int64_t last_count = -1;
  while (delivered < expected && clock::now() < hard_deadline) {
    ioc.run_one_for(std::chrono::milliseconds(50));
    if (delivered + acked != last_count) {
      last_count = delivered + acked;
      last_progress = clock::now();
    } else if (clock::now() - last_progress > std::chrono::duration<double>(o.drain_seconds)) {
      break;
    }
    if (!pub_err.empty() && pub_err != "pending") {
      std::cerr << "chat-bench: publisher: " << pub_err << '\n';
      return 1;
    }
  }
  int64_t out_of_order = 0;
  for (auto& s : subs)
    out_of_order += s.out_of_order;
  double secs = std::chrono::duration<double>(last_delivery - first_send).count();
  auto lost = expected - delivered;
  char line[512];
  std::snprintf(line, sizeof line,
                R"({"scenario":"fanout","subscribers":%zu,"messages":%lld,"window":%d,)"
                R"("deliveries":%lld,"lost":%lld,"out_of_order":%lld,"seconds":%.3f,)"
                R"("deliveries_per_s":%.0f,"p50_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f})",
                S, static_cast<long long>(M), o.window, static_cast<long long>(delivered),
                static_cast<long long>(lost), static_cast<long long>(out_of_order), secs,
                secs > 0 ? static_cast<double>(delivered) / secs : 0.0, lat.quantile_ms(0.5),
                lat.quantile_ms(0.99), lat.quantile_ms(1.0));
  std::cout << line << '\n';
  std::fprintf(stderr,
               "fanout: %zu subscribers x %lld messages: %.0f deliveries/s, p50 %.2f ms, "
               "p99 %.2f ms, max %.2f ms, lost %lld, out of order %lld\n",
               S, static_cast<long long>(M), secs > 0 ? delivered / secs : 0.0,
               lat.quantile_ms(0.5), lat.quantile_ms(0.99), lat.quantile_ms(1.0),
               static_cast<long long>(lost), static_cast<long long>(out_of_order));
  for (auto& s : subs)
    s.ws->close();
  pub->close();
  ioc.run_for(std::chrono::milliseconds(200));
  return lost == 0 && out_of_order == 0 ? 0 : 3;
}

} // namespace bench
