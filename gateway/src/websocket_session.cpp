#include "websocket_session.hpp"

#include <boost/asio/post.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/events.hpp"
#include "chat/gateway/codec.hpp"
#include "chat/runtime/clock.hpp"
#include "chat/runtime/log.hpp"
#include "command_gate.hpp"

namespace chat::gateway {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr int max_bad_in_row = 10;
constexpr int max_missed_pongs = 2;
constexpr auto close_deadline = std::chrono::seconds(2);

actors::frame control_frame(uint8_t opcode, std::string_view payload) {
  std::string buf(actors::frame::header_room, '\0');
  buf.append(payload.substr(0, 125));
  return actors::frame::finish(std::move(buf), opcode);
}

actors::frame close_frame(uint16_t code, std::string_view reason) {
  std::string payload;
  payload += static_cast<char>(code >> 8);
  payload += static_cast<char>(code & 0xff);
  payload.append(reason.substr(0, 123));
  return control_frame(0x8, payload);
}

constexpr auto auth_deadline = std::chrono::seconds(5);
/// Unfinished commands of one connection before its reads pause.
constexpr uint64_t max_unfinished_commands = 256;
constexpr uint16_t close_unauthorized = 4001;

} // namespace

websocket_session::websocket_session(std::unique_ptr<transport> stream,
                                     std::shared_ptr<shared_state> state,
                                     std::optional<identity> id,
                                     std::unique_ptr<unauthenticated_ticket> pending) :
  stream_(std::move(stream)),
  state_(std::move(state)), id_(std::move(id)), pending_auth_(std::move(pending)),
  out_(
    std::make_shared<actors::outbox>(state_->opts.outbound_queue_bytes, state_->node.metrics)),
  reader_(state_->opts.max_frame_bytes), commands_(state_->opts.command_rate) {}

websocket_session::~websocket_session() {
  session_clock::remove(*this);
  out_->close();
  if (conn_)
    caf::anon_send(conn_, msg::closed_atom::value);
  state_->connections->remove(this);
  if (!pending_auth_)
    state_->release_slot();  // reserved by the handshake or by `auth`
  state_->sockets.release(); // the socket came from the HTTP session
}

void websocket_session::start(std::string_view early,
                              const boost::asio::ip::tcp::endpoint& remote) {
  state_->connections->add(this, weak_from_this(), client_transport::ws, remote);
  out_->set_waker(std::weak_ptr<actors::outbox_waker>{shared_from_this()});
  // Deadlines are met within an eighth of a heartbeat (at most 0.5 s).
  session_clock::of(stream_->get_executor())
    .add(*this, std::chrono::milliseconds(
                  std::clamp<uint32_t>(state_->opts.heartbeat_ms / 8, 20, 500)));
  if (id_) {
    begin();
  } else {
    // No credentials at the handshake: the first frame must be `auth`.
    due_ = deadline::auth;
    set_deadline(std::chrono::steady_clock::now() + auth_deadline);
  }
  if (!early.empty()) {
    reader_.feed(early.data(), early.size());
    for (;;) {
      auto ev = reader_.next();
      if (ev.what == ws_reader::kind::need_more || !handle(ev))
        break;
    }
  }
  wait_read();
}

// Authenticated: the connection actor exists from here on.
void websocket_session::begin() {
  conn_ = actors::spawn_connection(state_->sys, state_->node, id_->user, out_);
  state_->connections->authenticated(this, conn_, &id_->user);
  runtime::log_context cid{log_id()};
  spdlog::debug("ws: '{}' connected", id_->user);
  arm_heartbeat();
}

void websocket_session::close_async(uint16_t code, std::string reason) {
  asio::post(stream_->get_executor(), [self = shared_from_this(), code, reason] {
    self->close(code, reason);
  });
}

void websocket_session::describe(std::function<void(double, int64_t)> fill) {
  asio::post(stream_->get_executor(), [self = shared_from_this(), fill = std::move(fill)] {
    if (self->phase_ != phase::open)
      return;
    auto now = std::chrono::steady_clock::now();
    fill(self->commands_.level(now), runtime::wall_ms_of(self->last_alive_, now));
  });
}

std::string websocket_session::log_id() const {
  // The admin API's id of the connection (none before its `auth`).
  return conn_ ? state_->node.node_id + ":" + std::to_string(conn_.id()) : std::string{};
}

void websocket_session::wake() {
  asio::post(stream_->get_executor(), [self = shared_from_this()] {
    self->write_more();
  });
}

void websocket_session::wait_read() {
  stream_->async_read(shared_from_this());
}

void websocket_session::on_read(error_code ec, std::string_view data) {
  if (ec)
    return finish();
  on_data(data);
}

void websocket_session::on_data(std::string_view data) {
  if (phase_ == phase::closed)
    return;
  if (phase_ == phase::open) { // while closing, read only to drain until the peer's FIN
    reader_.feed(data.data(), data.size());
    for (;;) {
      auto ev = reader_.next();
      if (ev.what == ws_reader::kind::need_more || !handle(ev))
        break;
    }
    reader_.idle();
  }
  if (phase_ == phase::closed)
    return;
  if (saturated())
    return pause_reading();
  wait_read();
}

// Inbound backpressure: too many of this connection's commands are unfinished
// (its room or the store is saturated), so stop reading; TCP then pushes back on
// the client. Resumes once half of them are done.
bool websocket_session::saturated() const {
  return dispatched_ - out_->commands_done() >= max_unfinished_commands;
}

// Reading resumes when half of the unfinished commands are done: the outbox
// wakes the session then (write_more resumes it), and holds it meanwhile (no
// read is pending to keep it alive).
void websocket_session::pause_reading() {
  if (out_->wake_when_done(dispatched_ - max_unfinished_commands / 2, shared_from_this())) {
    reading_paused_ = true;
    return;
  }
  wait_read(); // they finished meanwhile
}

// Returns false once the session stops reading frames.
bool websocket_session::handle(const ws_reader::event& ev) {
  if (phase_ != phase::open)
    return false;
  switch (ev.what) {
    case ws_reader::kind::text:
      handle_text(ev.payload);
      break;
    case ws_reader::kind::binary:
      reply(actors::error_event("", actors::wire_error::bad_request,
                                "binary frames are not supported"));
      if (++bad_in_row_ >= max_bad_in_row)
        close(close_code::policy, "too many bad frames");
      break;
    case ws_reader::kind::ping:
      reply(control_frame(0xA, ev.payload));
      break;
    case ws_reader::kind::pong:
      missed_pongs_ = 0;
      alive();
      break;
    case ws_reader::kind::close:
      // Echo the peer's code (RFC 6455 5.5.1); a close without one gets 1000.
      close(ev.code == close_code::no_status ? close_code::normal : ev.code, "");
      break;
    case ws_reader::kind::fail:
      close(ev.code, ev.reason);
      break;
    case ws_reader::kind::need_more:
      break;
  }
  return phase_ == phase::open;
}

void websocket_session::handle_text(std::string_view text) {
  auto parsed = parse_command(text);
  if (!id_)
    return authenticate(parsed);
  if (auto* err = std::get_if<command_error>(&parsed)) {
    reply(actors::error_event(err->ref, err->code, err->message));
    if (err->code == actors::wire_error::bad_request && ++bad_in_row_ >= max_bad_in_row)
      close(close_code::policy, "too many bad frames");
    return;
  }
  bad_in_row_ = 0;
  if (std::holds_alternative<cmd_ping>(std::get<command>(parsed)))
    alive();
  dispatch(std::get<command>(parsed));
}

// The gateway answers what it can itself (pong, rate_limited, forbidden);
// everything else goes to the connection actor.
void websocket_session::dispatch(command& cmd) {
  if (auto answer =
        screen_command(cmd, *id_, commands_, state_->user_commands, state_->commands))
    return reply(*answer);
  ++dispatched_;
  forward_command(conn_, std::move(cmd));
}

void websocket_session::authenticate(std::variant<command, command_error>& parsed) {
  auto* cmd = std::get_if<command>(&parsed);
  auto* auth = cmd != nullptr ? std::get_if<cmd_auth>(cmd) : nullptr;
  if (auth == nullptr)
    return close(close_unauthorized, "unauthorized: authenticate first");
  auto verified = state_->opts.auth->verify(auth->token, runtime::wall_s());
  if (auto* why = std::get_if<std::string>(&verified))
    return close(close_unauthorized, "unauthorized: " + *why);
  // Authenticated: from the budget of sockets waiting for `auth` to a slot.
  if (!state_->reserve_slot())
    return close(close_code::try_again_later, "overloaded: too many connections on this node");
  pending_auth_.reset();
  id_ = std::get<identity>(std::move(verified));
  reply(actors::ok_event(auth->ref));
  begin();
}

void websocket_session::reply(const actors::frame& f) {
  out_->push(f, actors::frame_kind::reply);
}

// Tells presence the peer is alive: on pongs and application pings, at most
// once per half heartbeat interval.
void websocket_session::alive() {
  auto now = std::chrono::steady_clock::now();
  if (now - last_alive_ < std::chrono::milliseconds(state_->opts.heartbeat_ms / 2))
    return;
  last_alive_ = now;
  if (conn_)
    caf::anon_send(conn_, msg::heartbeat_atom::value);
}

void websocket_session::close(uint16_t code, std::string_view reason) {
  if (phase_ != phase::open)
    return;
  phase_ = phase::closing;
  runtime::log_context cid{log_id()};
  spdlog::debug("ws: closing '{}' with {} {}", id_ ? id_->user : "?", code, reason);
  // Whatever is already queued (e.g. the error that led here) goes out first.
  out_->take(queue_);
  out_->close();
  if (conn_)
    caf::anon_send(conn_, msg::closed_atom::value);
  conn_ = nullptr;
  close_frame_ = close_frame(code, reason);
  due_ = deadline::close;
  set_deadline(std::chrono::steady_clock::now() + close_deadline);
  write_more();
}

void websocket_session::write_more() {
  if (phase_ == phase::closed)
    return;
  if (reading_paused_ && dispatched_ - out_->commands_done() <= max_unfinished_commands / 2) {
    reading_paused_ = false;
    wait_read(); // also while closing: it drains until the peer's FIN
  }
  if (writing_) {
    // A peer that stopped reading never completes the write in flight: its
    // overflow is acted on now, not after the write.
    if (phase_ == phase::open && out_->overflowed())
      close(close_code::try_again_later, "slow_consumer");
    return;
  }
  if (phase_ == phase::open && !out_->take(queue_))
    return close(close_code::try_again_later, "slow_consumer");
  if (phase_ == phase::open && out_->closed()) // closed by a producer (a failed replay)
    return close(close_code::try_again_later, "unavailable: rejoin with since");
  if (queue_.empty() && phase_ == phase::closing) {
    if (close_sent_) {
      stream_->shutdown_send();
      return; // the read side drains until the peer's FIN or the deadline
    }
    queue_.push_back(close_frame_);
    close_sent_ = true;
  }
  if (queue_.empty())
    return;
  // The transport copies the buffer list (not the bytes) into its write.
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(queue_.size());
  for (auto& f : queue_) {
    auto b = f.ws_bytes();
    buffers.emplace_back(b.data(), b.size());
  }
  writing_ = queue_.size();
  stream_->async_write(buffers, shared_from_this());
}

void websocket_session::on_written(error_code ec) {
  auto end = queue_.begin() + static_cast<std::ptrdiff_t>(std::exchange(writing_, 0));
  size_t bytes = 0;
  for (auto i = queue_.begin(); i != end; ++i)
    bytes += i->ws_bytes().size();
  out_->release(bytes);
  queue_.erase(queue_.begin(), end);
  // Drained: an idle connection keeps no queue capacity (take() swaps it into
  // the outbox otherwise).
  if (queue_.empty())
    std::vector<actors::frame>{}.swap(queue_);
  if (ec)
    return finish();
  write_more();
}

void websocket_session::arm_heartbeat() {
  due_ = deadline::heartbeat;
  set_deadline(std::chrono::steady_clock::now()
               + std::chrono::milliseconds(state_->opts.heartbeat_ms));
}

void websocket_session::on_deadline(session_clock::time_point) {
  // The clock holds the session by a raw pointer; closing may drop the last
  // other reference (the outbox's hold on a session whose reads are paused).
  auto self = shared_from_this();
  set_deadline(session_clock::time_point::max());
  switch (due_) {
    case deadline::auth:
      if (!id_)
        close(close_unauthorized, "unauthorized: no auth frame within 5 s");
      break;
    case deadline::heartbeat:
      if (phase_ != phase::open)
        break;
      if (missed_pongs_ >= max_missed_pongs) {
        runtime::log_context cid{log_id()};
        spdlog::info("ws: '{}' missed {} pongs, closing", id_->user, max_missed_pongs);
        return close(close_code::going_away, "ping timeout");
      }
      ++missed_pongs_;
      reply(control_frame(0x9, "hb"));
      arm_heartbeat();
      break;
    case deadline::close:
      // The peer did not finish the close handshake in time (or is not
      // reading at all): release the socket and whatever it has queued.
      finish(true);
      break;
  }
}

void websocket_session::finish(bool abort) {
  if (phase_ == phase::closed)
    return;
  phase_ = phase::closed;
  session_clock::remove(*this);
  out_->close();
  if (conn_) {
    caf::anon_send(conn_, msg::closed_atom::value);
    conn_ = nullptr;
  }
  if (abort)
    stream_->abort();
  else
    stream_->close();
}

} // namespace chat::gateway
