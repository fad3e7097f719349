#include "harness.hpp"

#include <random>

#include <sys/resource.h>

namespace bench {

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now().time_since_epoch())
    .count();
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

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

std::string_view string_after(std::string_view text, std::string_view key) {
  auto i = text.find(key);
  if (i == std::string_view::npos)
    return {};
  i += key.size();
  auto j = text.find('"', i);
  return j == std::string_view::npos ? std::string_view{} : text.substr(i, j - i);
}

bool is_type(std::string_view frame, std::string_view type) {
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

uint16_t port_of(const options& o, size_t i) {
  return o.ports.empty() ? o.port : o.ports[i % o.ports.size()];
}

clock::duration seconds(double s) {
  return std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(s));
}

double own_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return tv.tv_sec + tv.tv_usec / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

namespace {

// Sends socket i's join; a protocol whose target joined already is done.
void start_join(member_sockets& ms, const wire& w, size_t i) {
  auto cmd = w.join(ms.room(i));
  if (!cmd.empty())
    return ms.sockets[i]->send(std::move(cmd));
  ms.is_member[i] = 1;
  ++ms.joined;
}

} // namespace

bool connect_and_join(asio::io_context& ioc, const options& o, const wire& w, size_t n,
                      member_sockets& ms) {
  ms.sockets.resize(n);
  ms.is_member.assign(n, 0);
  ms.joined = 0;
  bool ok = connect_all(
    ioc, o, n,
    [&](size_t i) {
      ms.sockets[i] = ws_client::make(
        ioc,
        [&ms, &w, i](std::string_view f) {
          std::string reply;
          auto ev = w.classify(f, reply);
          if (!reply.empty())
            ms.sockets[i]->send(std::move(reply));
          if (ms.is_member[i]) {
            if (ms.on_frame)
              ms.on_frame(i, ev, f);
          } else if (ev == frame_event::connected) {
            start_join(ms, w, i);
          } else if (ev == frame_event::joined) {
            ms.is_member[i] = 1;
            ++ms.joined;
          }
        },
        ms.quick_ack);
      return ms.sockets[i];
    },
    [&](size_t i) {
      return w.target(ms.user(i), ms.room(i));
    },
    [&](size_t i) {
      auto hello = w.hello();
      if (hello.empty())
        start_join(ms, w, i);
      else
        ms.sockets[i]->send(std::move(hello));
    },
    ms.offset);
  if (!ok)
    return false;
  run_until(ioc, clock::now() + std::chrono::seconds(60), [&] {
    return ms.joined == n;
  });
  if (ms.joined != n) {
    std::cerr << "chat-bench: only " << ms.joined << " of " << n << " sockets joined\n";
    return false;
  }
  return true;
}

bool connect_all(asio::io_context& ioc, const options& o, size_t n,
                 const std::function<std::shared_ptr<ws_client>(size_t)>& make,
                 const std::function<std::string(size_t)>& target,
                 const std::function<void(size_t)>& on_connected, size_t offset) {
  size_t started = 0;
  size_t done = 0;
  std::string failure;
  std::function<void()> start_one = [&] {
    if (started == n || !failure.empty())
      return;
    auto i = started++;
    make(i)->connect(source_ip(o, offset + i), o.host, port_of(o, offset + i), target(i),
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

} // namespace bench
