#include "connection_index.hpp"

#include <algorithm>

#include "chat/runtime/clock.hpp"

namespace chat::gateway {

namespace {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
  auto a = e.address();
  auto host = a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
  return host + ":" + std::to_string(e.port());
}

} // namespace

void connection_index::add(live_connection* key, std::weak_ptr<live_connection> s,
                           client_transport t, const boost::asio::ip::tcp::endpoint& remote,
                           caf::actor actor, const std::string* user) {
  std::lock_guard<std::mutex> guard{mtx_};
  entry e{std::move(s), std::move(actor), user, remote, runtime::wall_ms(), t};
  if (entries_.emplace(key, std::move(e)).second) {
    ++by_transport_[static_cast<size_t>(t)];
    metrics_->connections.fetch_add(1, std::memory_order_relaxed);
  }
}

void connection_index::authenticated(live_connection* key, caf::actor actor,
                                     const std::string* user) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = entries_.find(key); i != entries_.end()) {
    i->second.actor = std::move(actor);
    i->second.user = user;
  }
}

void connection_index::remove(live_connection* key) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = entries_.find(key); i != entries_.end()) {
    --by_transport_[static_cast<size_t>(i->second.how)];
    metrics_->connections.fetch_sub(1, std::memory_order_relaxed);
    entries_.erase(i);
  }
  if (entries_.empty())
    drained_.notify_all();
}

std::array<size_t, 3> connection_index::by_transport() {
  std::lock_guard<std::mutex> guard{mtx_};
  return by_transport_;
}

bool connection_index::wait_drained(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock{mtx_};
  return drained_.wait_for(lock, timeout, [this] {
    return entries_.empty();
  });
}

std::vector<std::shared_ptr<live_connection>> connection_index::live() {
  std::vector<std::shared_ptr<live_connection>> out;
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [key, e] : entries_)
    if (auto s = e.session.lock())
      out.push_back(std::move(s));
  return out;
}

std::vector<caf::actor> connection_index::pick(const std::string& user, caf::actor_id after,
                                               size_t limit) {
  std::vector<caf::actor> out;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [key, e] : entries_)
      if (e.actor && e.actor.id() > after && (user.empty() || *e.user == user))
        out.push_back(e.actor);
  }
  auto by_id = [](const caf::actor& a, const caf::actor& b) {
    return a.id() < b.id();
  };
  if (out.size() > limit) {
    std::nth_element(out.begin(), out.begin() + static_cast<ptrdiff_t>(limit), out.end(),
                     by_id);
    out.resize(limit);
  }
  std::sort(out.begin(), out.end(), by_id);
  return out;
}

namespace {

// The cards of one describe. Each session fills its own on its thread; the
// last one to finish (or to be dropped, when a session ended or its executor
// stopped) destroys this, which hands over what was filled.
struct describe_gather {
  std::mutex mtx;
  std::vector<actors::connection_card> cards;
  std::vector<bool> filled;
  std::function<void(std::vector<actors::connection_card>)> done;

  ~describe_gather() {
    std::vector<actors::connection_card> out;
    for (size_t i = 0; i < cards.size(); ++i)
      if (filled[i])
        out.push_back(std::move(cards[i]));
    done(std::move(out));
  }
};

} // namespace

void connection_index::describe(
  std::vector<caf::actor> actors,
  std::function<void(std::vector<actors::connection_card>)> done) {
  auto g = std::make_shared<describe_gather>();
  g->done = std::move(done);
  // Sessions are released after the lock: the last reference to one ends it,
  // and its end removes it from this index.
  std::vector<std::shared_ptr<live_connection>> sessions;
  {
    // One pass over the entries (a page's actors are few, the entries many),
    // then the cards in the order asked for.
    std::unordered_map<caf::actor_id, size_t> wanted;
    for (size_t i = 0; i < actors.size(); ++i)
      wanted.emplace(actors[i].id(), i);
    std::vector<std::pair<size_t, const entry*>> found;
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [key, e] : entries_)
      if (e.actor)
        if (auto w = wanted.find(e.actor.id()); w != wanted.end())
          found.emplace_back(w->second, &e);
    std::sort(found.begin(), found.end(), [](auto& a, auto& b) {
      return a.first < b.first;
    });
    for (auto& [i, e] : found) {
      auto s = e->session.lock();
      if (!s)
        continue;
      actors::connection_card c;
      c.actor = e->actor;
      c.user = *e->user;
      c.transport = transport_name(e->how);
      c.remote = endpoint_text(e->remote);
      c.opened_at = e->opened_at;
      g->cards.push_back(std::move(c));
      sessions.push_back(std::move(s));
    }
  }
  g->filled.resize(g->cards.size(), false);
  for (size_t i = 0; i < sessions.size(); ++i)
    sessions[i]->describe([g, i](double tokens, int64_t last_alive_ms) {
      std::lock_guard<std::mutex> guard{g->mtx};
      g->cards[i].rate_tokens = tokens;
      g->cards[i].last_heartbeat = last_alive_ms;
      g->filled[i] = true;
    });
}

bool connection_index::close(caf::actor_id actor) {
  std::shared_ptr<live_connection> s;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    for (auto& [key, e] : entries_)
      if (e.actor && e.actor.id() == actor) {
        s = e.session.lock();
        break;
      }
  }
  if (!s)
    return false;
  s->close_async(4000, "closed by admin");
  return true;
}

} // namespace chat::gateway
