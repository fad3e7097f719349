#include "chat/actors/outbox.hpp"

namespace chat::actors {

namespace {

class function_waker final : public outbox_waker {
public:
  explicit function_waker(std::function<void()> f) : f_(std::move(f)) {}
  void wake() override { f_(); }

private:
  std::function<void()> f_;
};

} // namespace

bool outbox::push(const frame& f, frame_kind kind) {
  std::shared_ptr<outbox_waker> wake;
  bool queued = true;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_ || overflowed_)
      return false;
    // The bound is on backlog: one frame larger than the bound (a big history
    // reply) still goes out when nothing is queued before it.
    if (bytes_ > 0 && bytes_ + f.size() > max_bytes_) {
      if (kind == frame_kind::ephemeral) {
        if (metrics_)
          metrics_->outbox_drops.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
      if (metrics_)
        metrics_->slow_consumers.fetch_add(1, std::memory_order_relaxed);
      overflowed_ = true;
      pending_.clear();
      queued = false;
      // Told even while the consumer is busy writing (and so not re-armed): a
      // peer that stopped reading never finishes its write.
      wake_armed_ = true;
    } else {
      pending_.push_back(f);
      bytes_ += f.size();
    }
    if (!wake_armed_)
      return queued;
    wake_armed_ = false;
    wake = waker_.lock();
  }
  if (wake)
    wake->wake();
  return queued;
}

void outbox::set_waker(std::weak_ptr<outbox_waker> waker) {
  std::lock_guard<std::mutex> guard{mtx_};
  waker_ = std::move(waker);
  owned_waker_ = nullptr;
}

void outbox::set_waker(std::function<void()> waker) {
  auto owned = std::make_shared<function_waker>(std::move(waker));
  std::lock_guard<std::mutex> guard{mtx_};
  waker_ = owned;
  owned_waker_ = std::move(owned);
}

bool outbox::take(std::vector<frame>& out) {
  std::lock_guard<std::mutex> guard{mtx_};
  wake_armed_ = true;
  if (out.empty())
    out.swap(pending_);
  else
    out.insert(out.end(), pending_.begin(), pending_.end());
  pending_.clear();
  return !overflowed_;
}

void outbox::command_done() {
  auto done = done_.fetch_add(1, std::memory_order_acq_rel) + 1;
  auto at = wake_at_.load(std::memory_order_acquire);
  if (at != 0 && done >= at && wake_at_.compare_exchange_strong(at, 0))
    wake_consumer();
}

// The hold is taken and given back under the lock, so that a late wake of an
// earlier wait (its command_done raced the consumer's next pause) never lets go
// of the consumer a newer wait still needs.
bool outbox::wake_when_done(uint64_t count, std::shared_ptr<outbox_waker> keep) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (closed_)
    return false;
  wake_at_.store(count, std::memory_order_release);
  // The last command may have finished before the store: take the wake back.
  auto at = count;
  if (done_.load(std::memory_order_acquire) >= count && wake_at_.compare_exchange_strong(at, 0))
    return false;
  if (!owned_waker_ || held_for_wait_) { // (a function waker is owned already)
    owned_waker_ = std::move(keep);
    held_for_wait_ = true;
  }
  return true;
}

void outbox::wake_consumer() {
  std::shared_ptr<outbox_waker> wake;
  std::shared_ptr<outbox_waker> held; // released after the wake, which keeps its own
  {
    std::lock_guard<std::mutex> guard{mtx_};
    wake = waker_.lock();
    if (held_for_wait_ && wake_at_.load(std::memory_order_acquire) == 0) {
      held = std::move(owned_waker_);
      held_for_wait_ = false;
    }
  }
  if (wake)
    wake->wake();
}

bool outbox::overflowed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return overflowed_;
}

void outbox::release(size_t bytes) {
  std::vector<std::function<void()>> ready;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    bytes_ -= bytes < bytes_ ? bytes : bytes_;
    for (auto i = resume_.begin(); i != resume_.end();) {
      if (!room_for(i->first)) {
        ++i;
        continue;
      }
      ready.push_back(std::move(i->second));
      i = resume_.erase(i);
    }
  }
  for (auto& f : ready)
    f();
}

bool outbox::resume_when_room(size_t size, std::function<void()> resume) {
  std::function<void()> oldest;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (closed_ || room_for(size))
      return false;
    // Bounded: a reader that never reads keeps its replays' waits (stale ones
    // of earlier joins among them) until the connection closes.
    if (resume_.size() >= max_resume_waiters) {
      oldest = std::move(resume_.front().second);
      resume_.erase(resume_.begin());
    }
    resume_.emplace_back(size, std::move(resume));
  }
  if (oldest)
    oldest();
  return true;
}

void outbox::close() {
  std::shared_ptr<outbox_waker> released;
  std::shared_ptr<outbox_waker> wake;
  std::vector<frame> dropped;
  std::vector<std::pair<size_t, std::function<void()>>> waiting;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    closed_.store(true, std::memory_order_release);
    dropped.swap(pending_);
    waiting.swap(resume_); // dropped, never called: nobody reads any more
    if (held_for_wait_)
      wake = waker_.lock();
    waker_.reset();
    released = std::move(owned_waker_);
    held_for_wait_ = false;
  }
  // A consumer held for wake_when_done is woken first: its wake keeps it alive
  // on its own thread (which then sees the outbox closed), so that the last
  // reference is never dropped here, on a producer's thread, or under the lock.
  if (wake)
    wake->wake();
}

bool outbox::closed() const {
  return closed_.load(std::memory_order_acquire);
}

bool outbox::has_room(size_t size) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return !closed_ && room_for(size);
}

bool outbox::room_for(size_t size) const {
  return !overflowed_ && (bytes_ == 0 || bytes_ + size <= max_bytes_);
}

size_t outbox::queued_bytes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return bytes_;
}

} // namespace chat::actors
