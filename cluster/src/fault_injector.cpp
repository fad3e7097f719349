// The links of the fault injector: loopback TCP relays on one asio thread.
// They parse CAF 0.17's BASP framing (a 32-byte header whose bytes 4..7 are the
// payload length, big-endian) so that a fault acts on whole frames: a dropped
// message never leaves half a frame behind to corrupt the stream.

#include "chat/cluster/fault_injector.hpp"

#include <array>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <spdlog/spdlog.h>

namespace chat::cluster {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

constexpr size_t basp_header_size = 32;
constexpr uint8_t basp_last_operation = 6;      // heartbeat
constexpr uint8_t basp_direct_message = 2;      // direct and routed messages are
constexpr uint8_t basp_routed_message = 3;      // what a drop may lose
constexpr uint32_t basp_max_payload = 1u << 28; // larger: not BASP, relay raw
// What a link holds at most per direction (a long partition under load): beyond
// it the connection is reset, as a peer's full receive buffer would end it.
constexpr size_t max_held_bytes = 64u << 20;

struct rules {
  std::set<std::pair<std::string, std::string>> partitions; ///< (a, b) with a < b
  std::set<std::string> isolated;
  std::set<std::string> crashed;
  double drop = 0;
  std::chrono::milliseconds delay_min{0};
  std::chrono::milliseconds delay_max{0};

  [[nodiscard]] bool held(const std::string& a, const std::string& b) const {
    return isolated.count(a) > 0 || isolated.count(b) > 0
           || partitions.count(std::minmax(a, b)) > 0;
  }
  [[nodiscard]] bool refused(const std::string& a, const std::string& b) const {
    return crashed.count(a) > 0 || crashed.count(b) > 0 || held(a, b);
  }
};

struct shared_state;

// One relayed connection: the dialling node's socket, the peer's, and a
// queue of frames each way.
class relay : public std::enable_shared_from_this<relay> {
public:
  /// `to` is the peer's endpoint: the node it names may be learnt later.
  relay(shared_state& s, asio::io_context& io, tcp::socket client, std::string from,
        std::string to) :
    s_(s),
    sockets_{std::move(client), tcp::socket{io}}, from_(std::move(from)),
    to_(std::move(to)), ways_{way{0, 1, io}, way{1, 0, io}} {}

  void start(const tcp::endpoint& peer);
  void close();
  /// Side `side` (0: the dialling node, 1: the peer) is gone: see the definition.
  void lose(int side);
  [[nodiscard]] int side_of(const std::string& node) const { return from_ == node ? 0 : 1; }
  void pump_all() {
    pump(0);
    pump(1);
  }
  [[nodiscard]] bool involves(const std::string& node) const;
  [[nodiscard]] bool held() const;

private:
  struct way {
    way(int i, int o, asio::io_context& io) : in(i), out(o), timer(io) {}
    int in, out;
    asio::steady_timer timer;
    std::array<uint8_t, 65536> buf{};
    std::vector<uint8_t> partial;
    std::deque<std::pair<steady::time_point, std::vector<uint8_t>>> queue;
    steady::time_point last_release{};
    size_t held_bytes = 0; ///< in `queue`
    bool writing = false;
    bool waiting = false;
    bool raw = false;
  };

  void read(int w);
  void frame(way& w, std::vector<uint8_t> bytes, bool droppable);
  void pump(int w);

  shared_state& s_;
  std::array<tcp::socket, 2> sockets_;
  std::string from_, to_;
  std::array<way, 2> ways_;
  std::array<bool, 2> dead_{false, false};
  bool closed_ = false;
};

struct shared_state {
  asio::io_context io;
  rules r;
  std::mt19937_64 wire_rng;
  std::set<std::shared_ptr<relay>> relays;
  std::map<std::string, std::string> names; ///< endpoint -> node
  fault_injector::counters counts;

  explicit shared_state(uint64_t seed) : wire_rng(seed ^ 0x9e3779b97f4a7c15ULL) {}

  std::string node_at(const std::string& ep) const {
    auto i = names.find(ep);
    return i == names.end() ? ep : i->second;
  }
  void pump_all() {
    for (auto& r : relays)
      r->pump_all();
  }
};

bool relay::involves(const std::string& node) const {
  return from_ == node || s_.node_at(to_) == node;
}

bool relay::held() const {
  return s_.r.held(from_, s_.node_at(to_));
}

void relay::start(const tcp::endpoint& peer) {
  sockets_[1].async_connect(peer, [self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_)
      return self->close();
    for (auto& s : self->sockets_)
      s.set_option(tcp::no_delay(true), ec);
    self->read(0);
    self->read(1);
  });
}

void relay::close() {
  if (closed_)
    return;
  closed_ = true;
  boost::system::error_code ec;
  for (auto& s : sockets_)
    s.close(ec);
  for (auto& w : ways_)
    w.timer.cancel();
  s_.relays.erase(shared_from_this());
}

// Seen from the other side, a socket that closed is a closed connection —
// unless the link holds its frames: then the goodbye is lost in the partition
// too, and the other side learns nothing until its own timeout gives up (a
// node that died behind a partition, or lost power).
void relay::lose(int side) {
  if (closed_ || dead_[side])
    return;
  if (!held() || dead_[1 - side])
    return close();
  dead_[side] = true;
  boost::system::error_code ec;
  sockets_[side].close(ec);
}

void relay::read(int wi) {
  auto& w = ways_[wi];
  sockets_[w.in].async_read_some(
    asio::buffer(w.buf),
    [self = shared_from_this(), wi](boost::system::error_code ec, size_t n) {
      if (self->closed_)
        return;
      if (ec)
        return self->lose(self->ways_[wi].in);
      auto& w = self->ways_[wi];
      if (w.raw) {
        self->frame(w, {w.buf.begin(), w.buf.begin() + n}, false);
      } else {
        w.partial.insert(w.partial.end(), w.buf.begin(), w.buf.begin() + n);
        size_t at = 0;
        while (w.partial.size() - at >= basp_header_size) {
          auto* h = w.partial.data() + at;
          uint32_t len = (uint32_t{h[4]} << 24) | (uint32_t{h[5]} << 16) | (uint32_t{h[6]} << 8)
                         | uint32_t{h[7]};
          if (h[0] > basp_last_operation || len > basp_max_payload) {
            spdlog::warn("fault injector: {} -> {} is not CAF's framing; relayed as is",
                         self->from_, self->s_.node_at(self->to_));
            w.raw = true;
            ++self->s_.counts.raw;
            break;
          }
          if (w.partial.size() - at < basp_header_size + len)
            break;
          bool droppable = h[0] == basp_direct_message || h[0] == basp_routed_message;
          self->frame(w, {h, h + basp_header_size + len}, droppable);
          at += basp_header_size + len;
        }
        if (w.raw) {
          self->frame(w, {w.partial.begin() + static_cast<ptrdiff_t>(at), w.partial.end()},
                      false);
          w.partial.clear();
        } else {
          w.partial.erase(w.partial.begin(), w.partial.begin() + static_cast<ptrdiff_t>(at));
        }
      }
      self->pump(wi);
      self->read(wi);
    });
}

void relay::frame(way& w, std::vector<uint8_t> bytes, bool droppable) {
  auto& r = s_.r;
  if (droppable && r.drop > 0 && std::uniform_real_distribution<>{}(s_.wire_rng) < r.drop) {
    ++s_.counts.dropped;
    return;
  }
  auto release = steady::now();
  if (r.delay_max.count() > 0)
    release += std::chrono::milliseconds{std::uniform_int_distribution<int64_t>{
      r.delay_min.count(), r.delay_max.count()}(s_.wire_rng)};
  // A link keeps its order: no frame passes the one before it.
  release = std::max(release, w.last_release);
  w.last_release = release;
  w.held_bytes += bytes.size();
  w.queue.emplace_back(release, std::move(bytes));
  if (w.held_bytes > max_held_bytes) {
    spdlog::warn("fault injector: {} -> {} holds more than {} MiB; connection reset", from_,
                 s_.node_at(to_), max_held_bytes >> 20);
    close();
  }
}

void relay::pump(int wi) {
  auto& w = ways_[wi];
  if (!closed_ && dead_[w.out]) {
    w.queue.clear(); // nobody there to read it
    w.held_bytes = 0;
  }
  if (closed_ || w.writing || w.waiting || w.queue.empty() || held())
    return;
  auto now = steady::now();
  if (w.queue.front().first > now) {
    w.waiting = true;
    w.timer.expires_at(w.queue.front().first);
    w.timer.async_wait([self = shared_from_this(), wi](boost::system::error_code) {
      self->ways_[wi].waiting = false;
      self->pump(wi);
    });
    return;
  }
  auto out = std::make_shared<std::vector<uint8_t>>();
  while (!w.queue.empty() && w.queue.front().first <= now) {
    auto& bytes = w.queue.front().second;
    w.held_bytes -= bytes.size();
    out->insert(out->end(), bytes.begin(), bytes.end());
    w.queue.pop_front();
    ++s_.counts.frames;
  }
  w.writing = true;
  asio::async_write(sockets_[w.out], asio::buffer(*out),
                    [self = shared_from_this(), wi, out](boost::system::error_code ec, size_t) {
                      self->ways_[wi].writing = false;
                      if (ec)
                        return self->lose(self->ways_[wi].out);
                      self->pump(wi);
                    });
}

} // namespace

struct fault_injector::impl {
  explicit impl(uint64_t s) : seed(s), state(s), schedule_rng(s) {}

  /// Runs `f` on the relay thread and waits for it; once the injector is
  /// stopping, returns `f`'s default result without running it.
  template <class F>
  auto on_io(F f) {
    using result = decltype(f());
    auto task = std::make_shared<std::packaged_task<result()>>(std::move(f));
    auto done = task->get_future();
    {
      std::lock_guard<std::mutex> lock{io_mtx};
      if (stopped)
        return result{};
      asio::post(state.io, [task] {
        (*task)();
      });
    }
    return done.get();
  }

  void accept(const std::shared_ptr<tcp::acceptor>& acc, std::string from, tcp::endpoint peer,
              std::string peer_ep) {
    acc->async_accept(
      [this, acc, from, peer, peer_ep](boost::system::error_code ec, tcp::socket socket) {
        if (ec)
          return; // the injector is going away
        ++state.counts.connections;
        if (state.r.refused(from, state.node_at(peer_ep))) {
          ++state.counts.refused;
          socket.close(ec);
        } else {
          auto r = std::make_shared<relay>(state, state.io, std::move(socket), from, peer_ep);
          state.relays.insert(r);
          r->start(peer);
        }
        accept(acc, from, peer, peer_ep);
      });
  }

  uint64_t seed;
  shared_state state;
  std::map<std::pair<std::string, std::string>, runtime::endpoint> links; ///< (from, peer) ->
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::mutex mtx; ///< links, schedule_rng
  std::mt19937_64 schedule_rng;
  std::mutex io_mtx; ///< stopped; held while posting, so nothing is posted after the stop
  bool stopped = false;
  std::thread thread;
};

fault_injector::fault_injector(uint64_t seed) : impl_(std::make_shared<impl>(seed)) {
  impl_->thread = std::thread([s = &impl_->state] {
    auto guard = asio::make_work_guard(s->io);
    s->io.run();
  });
}

fault_injector::~fault_injector() {
  impl_->on_io([this] {
    boost::system::error_code ec;
    for (auto& a : impl_->acceptors)
      a->close(ec);
    auto relays = impl_->state.relays;
    for (auto& r : relays)
      r->close();
    return 0;
  });
  {
    std::lock_guard<std::mutex> lock{impl_->io_mtx};
    impl_->stopped = true;
  }
  impl_->state.io.stop();
  impl_->thread.join();
}

uint64_t fault_injector::seed() const {
  return impl_->seed;
}

void fault_injector::name(const std::string& node, const runtime::endpoint& ep) {
  impl_->on_io([&] {
    return impl_->state.names[ep.to_string()] = node, 0;
  });
}

dial_fn fault_injector::dialer(std::string from) {
  return [weak = std::weak_ptr<impl>(impl_),
          from = std::move(from)](const runtime::endpoint& peer) -> runtime::endpoint {
    // Port 0 refuses at once: a node outliving its injector reaches nobody.
    runtime::endpoint nowhere{"127.0.0.1", 0};
    auto im = weak.lock();
    if (!im)
      return nowhere;
    std::lock_guard<std::mutex> lock{im->mtx};
    auto key = std::make_pair(from, peer.to_string());
    if (auto i = im->links.find(key); i != im->links.end())
      return i->second;
    boost::system::error_code ec;
    auto target =
      asio::ip::make_address(peer.host == "localhost" ? "127.0.0.1" : peer.host, ec);
    if (ec) {
      // Not an address a link can relay to: dialled directly, and counted.
      im->on_io([&] {
        return ++im->state.counts.bypassed, 0;
      });
      return peer;
    }
    auto acc = std::make_shared<tcp::acceptor>(
      im->state.io, tcp::endpoint{asio::ip::make_address("127.0.0.1"), 0});
    runtime::endpoint link{"127.0.0.1", acc->local_endpoint().port()};
    bool started = im->on_io([&] {
      im->acceptors.push_back(acc);
      im->accept(acc, from, tcp::endpoint{target, peer.port}, key.second);
      return true;
    });
    if (!started)
      return nowhere;
    im->links.emplace(key, link);
    return link;
  };
}

void fault_injector::partition(const std::string& a, const std::string& b) {
  impl_->on_io([&] {
    return impl_->state.r.partitions.insert(std::minmax(a, b)), 0;
  });
}

void fault_injector::isolate(const std::string& node) {
  impl_->on_io([&] {
    return impl_->state.r.isolated.insert(node), 0;
  });
}

void fault_injector::heal() {
  impl_->on_io([&] {
    auto& r = impl_->state.r;
    r.partitions.clear();
    r.isolated.clear();
    r.drop = 0;
    r.delay_min = r.delay_max = std::chrono::milliseconds{0};
    impl_->state.pump_all();
    return 0;
  });
}

void fault_injector::drop(double probability) {
  impl_->on_io([&] {
    return impl_->state.r.drop = std::clamp(probability, 0.0, 1.0), 0;
  });
}

void fault_injector::delay(std::chrono::milliseconds min, std::chrono::milliseconds max) {
  impl_->on_io([&] {
    impl_->state.r.delay_min = std::max(min, std::chrono::milliseconds{0});
    impl_->state.r.delay_max = std::max(max, impl_->state.r.delay_min);
    return 0;
  });
}

void fault_injector::crash(const std::string& node) {
  impl_->on_io([&] {
    auto& s = impl_->state;
    s.r.crashed.insert(node);
    auto relays = s.relays;
    for (auto& r : relays)
      if (r->involves(node)) {
        ++s.counts.cut;
        r->lose(r->side_of(node));
      }
    return 0;
  });
}

void fault_injector::revive(const std::string& node) {
  impl_->on_io([&] {
    return impl_->state.r.crashed.erase(node), 0;
  });
}

uint64_t fault_injector::random(uint64_t lo, uint64_t hi) {
  std::lock_guard<std::mutex> lock{impl_->mtx};
  return std::uniform_int_distribution<uint64_t>{lo, hi}(impl_->schedule_rng);
}

fault_injector::counters fault_injector::stats() const {
  return impl_->on_io([this] {
    return impl_->state.counts;
  });
}

} // namespace chat::cluster
