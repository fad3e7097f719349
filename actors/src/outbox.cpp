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
      if (kind == frame_kind::ephemeral)
        return false;
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

bool outbox::overflowed() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return overflowed_;
}

void outbox::release(size_t bytes) {
  std::lock_guard<std::mutex> guard{mtx_};
  bytes_ -= bytes < bytes_ ? bytes : bytes_;
}

void outbox::close() {
  std::lock_guard<std::mutex> guard{mtx_};
  closed_ = true;
  pending_.clear();
  waker_.reset();
  owned_waker_ = nullptr;
}

bool outbox::has_room(size_t size) const {
  std::lock_guard<std::mutex> guard{mtx_};
  return !closed_ && !overflowed_ && (bytes_ == 0 || bytes_ + size <= max_bytes_);
}

size_t outbox::queued_bytes() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return bytes_;
}

} // namespace chat::actors
