#include "session_clock.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/query.hpp>

namespace chat::gateway {

namespace asio = boost::asio;

asio::execution_context::id session_clock::id;

session_clock::session_clock(asio::execution_context& ctx) :
  asio::execution_context::service(ctx),
  // The server's sessions run on io_contexts only.
  timer_(static_cast<asio::io_context&>(ctx)) {}

session_clock& session_clock::of(const asio::any_io_executor& ex) {
  return asio::use_service<session_clock>(asio::query(ex, asio::execution::context));
}

void session_clock::add(entry& e, std::chrono::milliseconds resolution) {
  if (e.clock_ != nullptr)
    return;
  e.clock_ = this;
  e.prev_ = nullptr;
  e.next_ = head_;
  if (head_ != nullptr)
    head_->prev_ = &e;
  head_ = &e;
  resolution_ = std::min(resolution_, resolution);
  arm();
}

void session_clock::remove(entry& e) {
  auto* clock = e.clock_;
  if (clock == nullptr)
    return;
  if (e.prev_ != nullptr)
    e.prev_->next_ = e.next_;
  else
    clock->head_ = e.next_;
  if (e.next_ != nullptr)
    e.next_->prev_ = e.prev_;
  e.prev_ = e.next_ = nullptr;
  e.clock_ = nullptr;
}

void session_clock::arm() {
  if (armed_ || head_ == nullptr)
    return;
  armed_ = true;
  timer_.expires_after(resolution_);
  timer_.async_wait([this](boost::system::error_code ec) {
    armed_ = false;
    if (!ec)
      tick();
  });
}

void session_clock::tick() {
  auto now = std::chrono::steady_clock::now();
  // A session may remove itself in its callback (never another one).
  for (auto* e = head_; e != nullptr;) {
    auto* next = e->next_;
    if (e->deadline_ <= now)
      e->on_deadline(now);
    e = next;
  }
  arm();
}

void session_clock::shutdown() {
  while (head_ != nullptr)
    remove(*head_);
  timer_.cancel();
}

} // namespace chat::gateway
