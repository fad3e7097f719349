#include "poll_stream.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/events.hpp"
#include "chat/runtime/log.hpp"
#include "http_status.hpp"

namespace chat::gateway {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

poll_stream::result error_result(actors::wire_error code, std::string_view why) {
  auto f = actors::error_event("", code, why);
  return {http_status_for(code), std::string{f.json()}};
}

} // namespace

poll_stream::poll_stream(std::shared_ptr<shared_state> state, identity who, stream_request req,
                         stream_budget budget) :
  stream_session(std::move(state), std::move(who), std::move(budget)),
  strand_(asio::make_strand(state_->io)), hold_(strand_), expiry_(strand_),
  req_(std::move(req)) {}

void poll_stream::start(const boost::asio::ip::tcp::endpoint& remote) {
  enlist(weak_from_this(), client_transport::poll, remote);
  state_->add_stream(id(), std::static_pointer_cast<stream_session>(shared_from_this()));
  out_->set_waker([weak = weak_from_this(), ex = strand_] {
    asio::post(ex, [weak] {
      if (auto self = weak.lock())
        self->drain();
    });
  });
  join_rooms(req_);
  asio::post(strand_, [self = shared_from_this()] {
    self->arm_expiry();
  });
}

void poll_stream::wait(uint64_t count, std::chrono::milliseconds timeout, reply_fn done) {
  asio::post(strand_,
             [self = shared_from_this(), count, timeout, done = std::move(done)]() mutable {
               self->on_wait(count, timeout, std::move(done));
             });
}

void poll_stream::on_wait(uint64_t count, std::chrono::milliseconds timeout, reply_fn done) {
  if (closed_)
    return done(error_result(actors::wire_error::bad_request,
                             "stale cursor: the stream is closed; poll "
                             "again without a cursor (rooms, since)"));
  if (count < confirmed_)
    return done(error_result(actors::wire_error::bad_request,
                             "stale cursor: a later cursor of this stream was already used"));
  if (count > issued_)
    return done(
      error_result(actors::wire_error::bad_request, "invalid cursor: ahead of the stream"));
  for (; confirmed_ < count; ++confirmed_) {
    out_->release(unconfirmed_.front().size());
    unconfirmed_.pop_front();
  }
  alive();
  if (waiter_) { // superseded by this newer poll
    auto old = std::move(waiter_);
    waiter_ = nullptr;
    old({200, poll_reply_body({}, format_cursor({id(), waiter_count_}), id())});
  }
  waiter_ = std::move(done);
  waiter_count_ = count;
  expiry_.cancel();
  if (!unconfirmed_.empty() || timeout.count() == 0)
    return answer();
  hold_.expires_after(timeout);
  hold_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && self->waiter_)
      self->answer();
  });
}

void poll_stream::drain() {
  if (closed_)
    return;
  if (!out_->take(taken_)) {
    runtime::log_context cid{log_id()};
    spdlog::info("poll: '{}' cannot keep up, closing (slow_consumer)", who().user);
    return finish(actors::wire_error::bad_request,
                  "stale cursor: the stream fell too far behind (slow_consumer); poll again "
                  "without a cursor (rooms, since)");
  }
  unconfirmed_.insert(unconfirmed_.end(), taken_.begin(), taken_.end());
  taken_.clear();
  if (waiter_ && !unconfirmed_.empty())
    answer();
}

void poll_stream::answer() {
  hold_.cancel();
  std::vector<std::string_view> events;
  events.reserve(unconfirmed_.size());
  for (auto& f : unconfirmed_)
    events.push_back(f.json());
  issued_ = confirmed_ + unconfirmed_.size();
  auto done = std::move(waiter_);
  waiter_ = nullptr;
  done({200, poll_reply_body(events, format_cursor({id(), issued_}), id())});
  arm_expiry();
}

void poll_stream::arm_expiry() {
  expiry_.expires_after(idle_timeout);
  expiry_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && !self->waiter_)
      self->finish(actors::wire_error::bad_request, "expired");
  });
}

void poll_stream::close_async(uint16_t, std::string reason) {
  asio::post(strand_, [self = shared_from_this(), reason] {
    self->finish(actors::wire_error::unavailable, reason);
  });
}

void poll_stream::finish(actors::wire_error code, std::string why) {
  if (closed_)
    return;
  closed_ = true;
  stop();
  hold_.cancel();
  expiry_.cancel();
  unconfirmed_.clear();
  if (waiter_) {
    auto done = std::move(waiter_);
    waiter_ = nullptr;
    done(error_result(code, why));
  }
}

} // namespace chat::gateway
