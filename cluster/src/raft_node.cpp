#include "raft_node.hpp"

#include <cstring>
#include <limits>
#include <stdexcept>

#include <spdlog/spdlog.h>

namespace chat::cluster {

// raft_io and raft_fsm are C tables of function pointers; these are their
// entries, each forwarding to the raft_node behind `impl`/`data`. Completions
// go through `later`: raft expects them after the call that started them
// returned (as libuv would deliver them), never from inside it.
struct raft_io_glue {
  static raft_node& of(raft_io* io) { return *static_cast<raft_node*>(io->impl); }

  static int init(raft_io*, raft_id, const char*) { return 0; }

  static void close(raft_io* io, raft_io_close_cb cb) {
    of(io).flush();
    if (cb != nullptr)
      cb(io);
  }

  static int load(raft_io* io, raft_term* term, raft_id* vote, raft_snapshot** snapshot,
                  raft_index* start_index, raft_entry** entries, size_t* n) {
    auto& self = of(io);
    *term = self.disk_.term();
    *vote = self.disk_.vote();
    *snapshot = nullptr;
    *start_index = 1;
    self.disk_.load(*entries, *n);
    return 0;
  }

  static int start(raft_io* io, unsigned, raft_io_tick_cb tick, raft_io_recv_cb recv) {
    auto& self = of(io);
    self.tick_cb_ = tick;
    self.recv_cb_ = recv;
    return 0;
  }

  static int bootstrap(raft_io* io, const raft_configuration* conf) {
    auto& self = of(io);
    if (!self.disk_.empty())
      return RAFT_CANTBOOTSTRAP;
    raft_buffer buf{};
    if (int rv = raft_configuration_encode(conf, &buf); rv != 0)
      return rv;
    raft_entry first{1, RAFT_CHANGE, buf, nullptr};
    int rv = guarded([&] {
      self.disk_.set_term(1);
      self.disk_.append(&first, 1);
    });
    raft_free(buf.base);
    return rv;
  }

  static int recover(raft_io*, const raft_configuration*) { return RAFT_IOERR; }

  static int set_term(raft_io* io, raft_term term) {
    return guarded([&] {
      of(io).disk_.set_term(term);
    });
  }

  static int set_vote(raft_io* io, raft_id id) {
    return guarded([&] {
      of(io).disk_.set_vote(id);
    });
  }

  static int send(raft_io* io, raft_io_send* req, const raft_message* msg, raft_io_send_cb cb) {
    auto& self = of(io);
    auto bytes = raft_wire::encode(*msg, self.raft_.id, self.settings_.address);
    int status = bytes ? 0 : RAFT_NOCONNECTION;
    if (bytes && self.settings_.send) {
      // Led by the group: servers of two groups never read each other.
      raft_wire::bytes out;
      raft_wire::put_u64(out, self.disk_.group());
      out.insert(out.end(), bytes->begin(), bytes->end());
      self.settings_.send(msg->server_id, std::move(out));
    }
    self.later([req, cb, status] {
      if (cb != nullptr)
        cb(req, status);
    });
    return 0;
  }

  static int append(raft_io* io, raft_io_append* req, const raft_entry entries[], unsigned n,
                    raft_io_append_cb cb) {
    auto& self = of(io);
    int status = guarded([&] {
      self.disk_.append(entries, n);
    });
    self.later([req, cb, status] {
      cb(req, status);
    });
    return 0;
  }

  static int truncate(raft_io* io, raft_index index) {
    return guarded([&] {
      of(io).disk_.truncate(index);
    });
  }

  // Snapshots are disabled (the threshold is never reached): the membership
  // log grows by one entry per view change.
  static int snapshot_put(raft_io*, unsigned, raft_io_snapshot_put*, const raft_snapshot*,
                          raft_io_snapshot_put_cb) {
    return RAFT_IOERR;
  }
  static int snapshot_get(raft_io*, raft_io_snapshot_get*, raft_io_snapshot_get_cb) {
    return RAFT_NOTFOUND;
  }

  static raft_time time(raft_io* io) { return of(io).now_; }

  static int random(raft_io* io, int min, int max) {
    return std::uniform_int_distribution<int>(min, max)(of(io).rng_);
  }

  static int apply(raft_fsm* fsm, const raft_buffer* buf, void** result) {
    auto& self = *static_cast<raft_node*>(fsm->data);
    *result = nullptr;
    if (self.settings_.apply)
      self.settings_.apply(std::string(static_cast<const char*>(buf->base), buf->len));
    return 0;
  }
  static int fsm_snapshot(raft_fsm*, raft_buffer**, unsigned*) { return RAFT_IOERR; }
  static int fsm_restore(raft_fsm*, raft_buffer*) { return RAFT_IOERR; }

  template <class F>
  static int guarded(F&& f) {
    try {
      f();
      return 0;
    } catch (const std::exception& e) {
      spdlog::error("raft: {}", e.what());
      return RAFT_IOERR;
    }
  }
};

namespace {

// A client request with its std::function: raft hands the request back in
// the callback, `data` leads to the rest.
template <class Req>
struct request {
  Req req{};
  raft_node::done_fn done;
  raft_id id = 0;
  raft* server = nullptr;
};

// The request's end, after the raft call that reported it: the owner's
// `done` unless the node is being destroyed (raft cancels what is in flight
// then, and the owner may be half gone).
template <class Req>
void finish(request<Req>* r, int status) {
  auto& self = *static_cast<raft_node*>(r->server->data);
  self.later([r, status, &self] {
    if (!self.closing())
      r->done(status);
    delete r;
  });
}

} // namespace

raft_node::raft_node(settings s) :
  settings_(std::move(s)), disk_(settings_.dir), rng_(settings_.seed) {
  if (disk_.server_id() == 0) {
    auto id = raft_digest(settings_.address.c_str(), settings_.seed);
    disk_.set_server_id(id == 0 ? 1 : id);
  }
  io_.version = 1;
  io_.impl = this;
  io_.init = raft_io_glue::init;
  io_.close = raft_io_glue::close;
  io_.load = raft_io_glue::load;
  io_.start = raft_io_glue::start;
  io_.bootstrap = raft_io_glue::bootstrap;
  io_.recover = raft_io_glue::recover;
  io_.set_term = raft_io_glue::set_term;
  io_.set_vote = raft_io_glue::set_vote;
  io_.send = raft_io_glue::send;
  io_.append = raft_io_glue::append;
  io_.truncate = raft_io_glue::truncate;
  io_.snapshot_put = raft_io_glue::snapshot_put;
  io_.snapshot_get = raft_io_glue::snapshot_get;
  io_.time = raft_io_glue::time;
  io_.random = raft_io_glue::random;
  fsm_.version = 1;
  fsm_.data = this;
  fsm_.apply = raft_io_glue::apply;
  fsm_.snapshot = raft_io_glue::fsm_snapshot;
  fsm_.restore = raft_io_glue::fsm_restore;
  if (int rv = raft_init(&raft_, &io_, &fsm_, disk_.server_id(), settings_.address.c_str());
      rv != 0)
    throw std::runtime_error(std::string("raft: cannot initialize: ") + raft_strerror(rv));
  raft_.data = this;
  raft_set_election_timeout(&raft_, settings_.election_timeout_ms);
  raft_set_heartbeat_timeout(&raft_, settings_.heartbeat_ms);
  raft_set_snapshot_threshold(&raft_, std::numeric_limits<unsigned>::max());
  raft_set_pre_vote(&raft_, true);
}

raft_node::~raft_node() {
  closing_ = true;
  raft_close(&raft_, [](raft* r) {
    static_cast<raft_node*>(r->data)->closed_ = true;
  });
  flush();
}

bool raft_node::bootstrap() {
  if (!disk_.empty())
    return false;
  disk_.set_group(rng_() | 1);
  raft_configuration conf;
  raft_configuration_init(&conf);
  raft_configuration_add(&conf, raft_.id, settings_.address.c_str(), RAFT_VOTER);
  int rv = raft_bootstrap(&raft_, &conf);
  raft_configuration_close(&conf);
  return rv == 0;
}

void raft_node::start(uint64_t now_ms) {
  now_ = last_tick_ = now_ms;
  if (int rv = raft_start(&raft_); rv != 0)
    throw std::runtime_error(std::string("raft: cannot start: ") + raft_errmsg(&raft_));
  started_ = true;
  flush();
}

void raft_node::advance(uint64_t now_ms) {
  now_ = now_ms;
  if (started_ && !closed_ && now_ - last_tick_ >= settings_.tick_ms) {
    last_tick_ = now_;
    tick_cb_(&io_);
  }
  flush();
  barrier_on_election();
}

void raft_node::barrier_on_election() {
  if (!leader() || barrier_pending_ || barrier_term_ == raft_.current_term)
    return;
  auto* r = new request<struct raft_barrier>{};
  r->server = &raft_;
  r->req.data = r;
  r->done = [this, term = raft_.current_term](int status) {
    barrier_pending_ = false;
    if (status == 0)
      barrier_term_ = term;
  };
  barrier_pending_ = true;
  if (raft_barrier(&raft_, &r->req,
                   [](struct raft_barrier* req, int status) {
                     finish(static_cast<request<struct raft_barrier>*>(req->data), status);
                   })
      != 0) {
    barrier_pending_ = false;
    delete r;
  }
  flush();
}

bool raft_node::receive(const raft_wire::bytes& bytes) {
  uint64_t group = 0;
  const uint8_t* p = bytes.data();
  if (!raft_wire::get_u64(p, p + bytes.size(), group))
    return false;
  auto d = raft_wire::decode(raft_wire::bytes(p, bytes.data() + bytes.size()));
  if (!d)
    return false;
  // A new server joins the group of the first server that writes to it (the
  // leader that added it); any other group's messages are dropped.
  if (disk_.group() == 0 && disk_.empty() && group != 0 && raft_io_glue::guarded([&] {
                                                             disk_.set_group(group);
                                                           }) != 0) {
    raft_wire::release(d->msg);
    return true;
  }
  bool stranger = group != disk_.group() && !(disk_.group() == 0 && disk_.empty());
  if (!started_ || closed_ || stranger) {
    strangers_ += stranger ? 1 : 0;
    raft_wire::release(d->msg);
    return true;
  }
  d->msg.server_address = d->from_address.c_str();
  recv_cb_(&io_, &d->msg); // raft owns the entries now
  flush();
  return true;
}

raft_id raft_node::leader_id() const {
  raft_id id = 0;
  const char* address = nullptr;
  raft_leader(const_cast<raft*>(&raft_), &id, &address);
  return id;
}

bool raft_node::propose(const std::string& command, done_fn done) {
  auto* r = new request<struct raft_apply>{};
  r->done = std::move(done);
  r->server = &raft_;
  r->req.data = r;
  raft_buffer buf{raft_malloc(command.size() + 1), command.size()};
  std::memcpy(buf.base, command.data(), command.size());
  int rv = raft_apply(&raft_, &r->req, &buf, 1, [](struct raft_apply* req, int status, void*) {
    finish(static_cast<request<struct raft_apply>*>(req->data), status);
  });
  if (rv != 0) {
    raft_free(buf.base);
    delete r;
    return false;
  }
  flush();
  return true;
}

bool raft_node::add_voter(raft_id id, const std::string& address, done_fn done) {
  auto* r = new request<struct raft_change>{};
  r->done = std::move(done);
  r->id = id;
  r->server = &raft_;
  r->req.data = r;
  // raft_add makes it a spare; the voter role is a second change, after the
  // first committed (raft refuses two changes in flight).
  static constexpr raft_change_cb assigned = [](raft_change* req, int status) {
    finish(static_cast<request<struct raft_change>*>(req->data), status);
  };
  // A server already there as a spare (an add whose promotion failed) is
  // only promoted.
  bool present = false;
  for (auto& s : servers())
    present = present || s.id == id;
  int rv =
    present
      ? raft_assign(&raft_, &r->req, id, RAFT_VOTER, assigned)
      : raft_add(&raft_, &r->req, id, address.c_str(), [](raft_change* req, int status) {
          auto* r = static_cast<request<struct raft_change>*>(req->data);
          if (status != 0)
            return finish(r, status);
          static_cast<raft_node*>(r->server->data)->later([r] {
            if (int rv = raft_assign(r->server, &r->req, r->id, RAFT_VOTER, assigned); rv != 0)
              finish(r, rv);
          });
        });
  if (rv != 0) {
    delete r;
    return false;
  }
  flush();
  return true;
}

bool raft_node::remove(raft_id id, done_fn done) {
  auto* r = new request<struct raft_change>{};
  r->done = std::move(done);
  r->server = &raft_;
  r->req.data = r;
  int rv = raft_remove(&raft_, &r->req, id, [](raft_change* req, int status) {
    finish(static_cast<request<struct raft_change>*>(req->data), status);
  });
  if (rv != 0) {
    delete r;
    return false;
  }
  flush();
  return true;
}

std::vector<raft_server_info> raft_node::servers() const {
  std::vector<raft_server_info> out;
  for (unsigned i = 0; i < raft_.configuration.n; ++i) {
    auto& s = raft_.configuration.servers[i];
    out.push_back({s.id, s.address, s.role == RAFT_VOTER});
  }
  return out;
}

raft_index raft_node::configuration_index() const {
  return raft_.configuration_uncommitted_index != 0 ? raft_.configuration_uncommitted_index
                                                    : raft_.configuration_index;
}

void raft_node::flush() {
  while (!pending_.empty()) {
    auto f = std::move(pending_.front());
    pending_.pop_front();
    f();
  }
}

} // namespace chat::cluster
