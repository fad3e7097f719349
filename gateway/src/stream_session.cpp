#include "stream_session.hpp"

#include <atomic>
#include <random>

#include <caf/send.hpp>
#include <openssl/rand.h>

#include "chat/actors/events.hpp"
#include "chat/actors/messages.hpp"
#include "chat/runtime/clock.hpp"
#include "command_gate.hpp"

namespace chat::gateway {

namespace {

// 128 random bits: the id is what lets a request reach the stream (with the
// same user's credentials), so it must not be guessable.
std::string random_id() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    std::random_device rd;
    for (auto& b : bytes)
      b = static_cast<unsigned char>(rd());
  }
  static constexpr char hex[] = "0123456789abcdef";
  std::string id;
  for (auto b : bytes) {
    id += hex[b >> 4];
    id += hex[b & 0xf];
  }
  return id;
}

} // namespace

stream_session::stream_session(std::shared_ptr<shared_state> state, identity who,
                               stream_budget budget) :
  state_(std::move(state)),
  out_(
    std::make_shared<actors::outbox>(state_->opts.outbound_queue_bytes, state_->node.metrics)),
  budget_(std::move(budget)), id_(random_id()), who_(std::move(who)),
  commands_(state_->opts.command_rate) {
  conn_ = actors::spawn_connection(state_->sys, state_->node, who_.user, out_);
}

stream_session::~stream_session() {
  stop();
}

void stream_session::stop() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopped_)
    return;
  stopped_ = true;
  state_->remove_stream(id_);
  state_->connections->remove(this);
  out_->close();
  caf::anon_send(conn_, msg::closed_atom::value);
}

void stream_session::enlist(std::weak_ptr<live_connection> self, client_transport how,
                            const boost::asio::ip::tcp::endpoint& remote) {
  state_->connections->add(this, std::move(self), how, remote, conn_, &who_.user);
}

std::string stream_session::log_id() const {
  return state_->node.node_id + ":" + std::to_string(conn_.id());
}

void stream_session::describe(std::function<void(double, int64_t)> fill) {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> guard{mtx_};
  if (!stopped_)
    fill(commands_.level(now), runtime::wall_ms_of(last_alive_, now));
}

void stream_session::join_rooms(const stream_request& req) {
  for (size_t i = 0; i < req.rooms.size(); ++i) {
    msg::cmd_join join;
    join.room = req.rooms[i];
    join.has_since = req.since[i].has_value();
    join.since = req.since[i].value_or(0);
    caf::anon_send(conn_, std::move(join));
  }
}

void stream_session::call(command cmd, std::function<void(actors::frame)> done) {
  std::optional<actors::frame> answer;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      answer = actors::error_event(std::visit(
                                     [](auto& x) {
                                       return x.ref;
                                     },
                                     cmd),
                                   actors::wire_error::unavailable,
                                   "the stream is closed; open it again");
    else
      answer = screen_command(cmd, who_, commands_, state_->user_commands, state_->commands);
  }
  if (answer)
    return done(*answer);
  if (auto* leave = std::get_if<msg::cmd_leave>(&cmd))
    leaving(leave->room);
  // The reply comes through a one-frame outbox whose waker answers the request.
  auto reply = std::make_shared<actors::outbox>(state_->opts.outbound_queue_bytes);
  auto answered = std::make_shared<std::atomic<bool>>(false);
  std::weak_ptr<actors::outbox> weak = reply;
  reply->set_waker([weak, answered, done = std::move(done)] {
    auto box = weak.lock();
    std::vector<actors::frame> frames;
    if (!box || !box->take(frames) || frames.empty() || answered->exchange(true))
      return;
    done(frames.front());
  });
  forward_command(conn_, std::move(cmd), std::move(reply));
}

void stream_session::alive() {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> guard{mtx_};
  if (stopped_ || now - last_alive_ < std::chrono::milliseconds(state_->opts.heartbeat_ms / 2))
    return;
  last_alive_ = now;
  caf::anon_send(conn_, msg::heartbeat_atom::value);
}

} // namespace chat::gateway
