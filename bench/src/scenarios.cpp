#include "scenarios.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <unordered_map>
#include <sstream>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "stats.hpp"
#include "ws_client.hpp"

namespace bench {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
    .count();
}

// Reads the unsigned number after `key` in a flat JSON text (our own frames).
bool number_after(std::string_view text, std::string_view key, int64_t& out) {
  auto i = text.find(key);
  if (i == std::string_view::npos)
    return false;
  i += key.size();
  int64_t v = 0;
  bool any = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    v = v * 10 + (text[i++] - '0');
    any = true;
  }
  out = v;
  return any;
}

bool is_type(std::string_view frame, std::string_view type) {
  // Events start with {"type":"<type>"
  return frame.size() > 10 + type.size() && frame.substr(9, type.size()) == type
         && frame[9 + type.size()] == '"';
}

std::string unique_suffix() {
  std::random_device rd;
  return std::to_string(std::chrono::system_clock::now().time_since_epoch().count()) + "-"
         + std::to_string(rd() % 100000);
}

std::string source_ip(const options& o, size_t i) {
  if (o.source_ips == 0)
    return {};
  return "127.0.0." + std::to_string(2 + i % static_cast<size_t>(o.source_ips));
}

struct subscriber {
  std::shared_ptr<ws_client> ws;
  int64_t next_seq = 1;
  int64_t received = 0;
  int64_t out_of_order = 0;
  bool joined = false;
};

// Connects `n` clients with at most 200 handshakes in flight, calling
// `on_connected(i)` for each; returns false (with a message) on any failure.
template <class Make, class OnConnected>
bool connect_all(asio::io_context& ioc, const options& o, size_t n, Make make,
                 OnConnected on_connected) {
  size_t started = 0;
  size_t done = 0;
  std::string failure;
  std::function<void()> start_one = [&] {
    if (started == n || !failure.empty())
      return;
    auto i = started++;
    make(i)->connect(source_ip(o, i), o.host, o.port, "/ws?user=bench" + std::to_string(i),
                     [&, i](const std::string& err) {
                       ++done;
                       if (!err.empty() && failure.empty())
                         failure = "client " + std::to_string(i) + ": " + err;
                       if (err.empty())
                         on_connected(i);
                       start_one();
                     });
  };
  for (int k = 0; k < 200; ++k)
    start_one();
  auto deadline = clock::now() + std::chrono::seconds(60);
  while (done < n && failure.empty() && clock::now() < deadline)
    ioc.run_one_for(std::chrono::milliseconds(100));
  if (!failure.empty() || done < n) {
    std::cerr << "chat-bench: " << (failure.empty() ? "connect timeout" : failure) << '\n';
    return false;
  }
  return true;
}

// Runs the loop until `done()` or the deadline.
template <class Done>
void run_until(asio::io_context& ioc, clock::time_point deadline, Done done) {
  while (!done() && clock::now() < deadline)
    ioc.run_one_for(std::chrono::milliseconds(50));
}

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
  pub->connect(source_ip(o, S), o.host, o.port, "/ws?user=publisher",
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
  auto stop_at =
    start
    + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(o.seconds));
  run_until(ioc, stop_at, [&] {
    return total_sent >= o.max_messages && total_acked == total_sent;
  });
  sending = false;
  auto send_end = clock::now();
  int64_t acked_in_window = total_acked;
  run_until(ioc,
            clock::now()
              + std::chrono::duration_cast<clock::duration>(
                std::chrono::duration<double>(o.drain_seconds)),
            [&] {
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

namespace bench {

namespace {

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// The string value after `key` (no escapes: our user names have none).
std::string_view string_after(std::string_view text, std::string_view key) {
  auto i = text.find(key);
  if (i == std::string_view::npos)
    return {};
  i += key.size();
  auto j = text.find('"', i);
  return j == std::string_view::npos ? std::string_view{} : text.substr(i, j - i);
}

} // namespace

int run_presence(const options& o) {
  asio::io_context ioc{1};
  auto tag = unique_suffix();
  auto W = static_cast<size_t>(o.watchers);
  auto F = static_cast<size_t>(o.flappers);
  auto flapper_name = [&](size_t i) { return "flap" + std::to_string(i) + "-" + tag; };
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
  run_until(ioc, clock::now() + std::chrono::seconds(60), [&] { return ready == W; });
  if (ready != W) {
    std::cerr << "chat-bench: only " << ready << " of " << W << " watchers got presence_state\n";
    return 1;
  }

  // Each flapping user toggles every period, phases spread evenly.
  std::mt19937 rng{42};
  auto start = clock::now();
  auto period = std::chrono::milliseconds(o.flap_period_ms);
  for (size_t i = 0; i < F; ++i)
    flappers[i].next_toggle = start + period * static_cast<int64_t>(i) / static_cast<int64_t>(F);
  measuring = true;
  int64_t changes = 0;
  auto stop_at = start + std::chrono::duration_cast<clock::duration>(
                           std::chrono::duration<double>(o.seconds));
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
        fl.ws->connect(source_ip(o, W + i), o.host, o.port, "/ws?user=" + flapper_name(i),
                       [&, i](const std::string& err) {
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
  run_until(ioc, stop_at, [] { return false; });
  tick.cancel();
  // Let the last publications (coalescing window, TTL-free closes) arrive.
  run_until(ioc, clock::now() + std::chrono::seconds(2), [] { return false; });
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
