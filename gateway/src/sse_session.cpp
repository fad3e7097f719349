#include "sse_session.hpp"

#include <algorithm>

#include "chat/runtime/log.hpp"
#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace chat::gateway {

namespace asio = boost::asio;
using boost::system::error_code;

sse_session::sse_session(std::unique_ptr<transport> stream, std::shared_ptr<shared_state> state,
                         identity who, stream_request req, std::string head,
                         stream_budget budget) :
  stream_session(std::move(state), std::move(who), std::move(budget)),
  stream_(std::move(stream)), timer_(stream_->get_executor()), req_(std::move(req)),
  pending_(std::move(head)) {}

sse_session::~sse_session() {
  state_->sockets.release(); // the socket came from the HTTP session
}

void sse_session::start(const boost::asio::ip::tcp::endpoint& remote) {
  enlist(weak_from_this(), client_transport::sse, remote);
  state_->add_stream(id(), std::static_pointer_cast<stream_session>(shared_from_this()));
  // Additive: the first event names the session, for POST /rpc?session=.
  append_sse_event(pending_, "", "session",
                   R"({"type":"session","session":")" + id() + R"("})");
  out_->set_waker(std::weak_ptr<actors::outbox_waker>{shared_from_this()});
  join_rooms(req_);
  alive();
  arm_heartbeat();
  write_more();
  wait_read();
}

void sse_session::close_async(uint16_t, std::string) {
  asio::post(stream_->get_executor(), [self = shared_from_this()] {
    self->finish();
  });
}

// A room left through /rpc no longer belongs in the events' ids.
void sse_session::leaving(const std::string& room) {
  asio::post(stream_->get_executor(), [self = shared_from_this(), room] {
    auto& p = self->positions_;
    p.erase(std::remove_if(p.begin(), p.end(),
                           [&](auto& x) {
                             return x.first == room;
                           }),
            p.end());
  });
}

void sse_session::wait_read() {
  stream_->async_read(shared_from_this());
}

void sse_session::on_read(error_code ec, std::string_view) {
  if (ec)
    return finish();
  wait_read();
}

void sse_session::wake() {
  asio::post(stream_->get_executor(), [self = shared_from_this()] {
    self->write_more();
  });
}

void sse_session::format(const actors::frame& f) {
  auto json = f.json();
  auto meta = read_event_meta(json);
  std::string id;
  if (!meta.room.empty()) {
    auto room = std::string{meta.room};
    auto seq = meta.seq;
    if (meta.type == "joined") {
      // Where the replay of this room starts (what the join asked for).
      auto i = std::find(req_.rooms.begin(), req_.rooms.end(), room);
      if (i != req_.rooms.end())
        if (auto since = req_.since[static_cast<size_t>(i - req_.rooms.begin())])
          seq = std::min(seq, *since);
    }
    auto p = std::find_if(positions_.begin(), positions_.end(), [&](auto& x) {
      return x.first == room;
    });
    if (p == positions_.end())
      positions_.emplace_back(room, seq);
    else
      p->second = seq;
    id = sse_event_id(room, seq, positions_);
  }
  append_sse_event(pending_, id, meta.type.empty() ? "message" : meta.type, json);
  pending_bytes_ += f.size();
}

void sse_session::write_more() {
  if (closed_)
    return;
  // Checked even with a write in flight: a reader that stopped never completes
  // it. Its socket is reset, so the kernel's unsent bytes go too.
  if (writing_ ? out_->overflowed() : !out_->take(queue_)) {
    runtime::log_context cid{log_id()};
    spdlog::info("sse: '{}' cannot keep up, closing (slow_consumer)", who().user);
    return finish(true);
  }
  if (writing_)
    return;
  if (out_->closed()) { // closed by a producer (a failed replay): the client resumes
    runtime::log_context cid{log_id()};
    spdlog::info("sse: '{}' stream ended by its room, the client resumes", who().user);
    return finish();
  }
  for (auto& f : queue_)
    format(f);
  queue_.clear();
  if (pending_.empty())
    return;
  writing_ = true;
  writing_buf_.clear();
  writing_buf_.swap(pending_);
  writing_bytes_ = std::exchange(pending_bytes_, 0);
  buffers_.assign(1, asio::buffer(writing_buf_));
  stream_->async_write(buffers_, shared_from_this());
}

void sse_session::on_written(error_code ec) {
  writing_ = false;
  out_->release(std::exchange(writing_bytes_, 0));
  if (ec)
    return finish();
  write_more();
}

void sse_session::arm_heartbeat() {
  timer_.expires_after(std::chrono::milliseconds(state_->opts.heartbeat_ms));
  timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->closed_)
      return;
    // A ping that the socket accepts keeps the user online; a dead peer
    // eventually fails the write (or the presence TTL runs out first).
    self->pending_ += ": ping\n\n";
    self->alive();
    self->write_more();
    self->arm_heartbeat();
  });
}

void sse_session::finish(bool abort) {
  if (closed_)
    return;
  closed_ = true;
  stop();
  timer_.cancel();
  if (abort)
    stream_->abort();
  else
    stream_->close();
}

} // namespace chat::gateway
