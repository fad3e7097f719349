#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "chat/actors/frame.hpp"
#include "chat/actors/metrics.hpp"

namespace chat::actors {

/// What a frame is worth when the queue is full.
enum class frame_kind : uint8_t {
  stored,    ///< a stored room message: never dropped; overflow closes the connection
  reply,     ///< a reply to a command: likewise
  ephemeral, ///< typing, presence: dropped first when the queue is full
};

/// Told when an outbox has frames (or overflowed). Implemented by the consumer,
/// which holds the outbox: the outbox keeps only a weak reference to it.
class outbox_waker {
public:
  virtual ~outbox_waker() = default;
  /// Called from any thread, outside the outbox's lock.
  virtual void wake() = 0;
};

/// The bounded outbound queue of one client connection: the bridge between
/// actors (producers, any thread) and the gateway session (the one consumer).
///
/// Actors never touch the socket: they push shared frames here, and the first
/// push into an empty queue calls the session's waker, which posts a drain onto
/// the session's strand. The session writes everything it took with one gather
/// write and then releases the bytes. The byte count covers both what is pending
/// and what is being written, so the bound holds for the whole path.
class outbox {
public:
  /// `metrics` (optional) counts the frames dropped here and the overflows.
  explicit outbox(size_t max_bytes, std::shared_ptr<node_metrics> metrics = nullptr) :
    max_bytes_(max_bytes), metrics_(std::move(metrics)) {}

  /// Queues `f`. Returns false when the frame was not queued: the connection is
  /// closed, or the queue is full (more than `max_bytes` would be queued; a single
  /// frame always fits an empty queue) (an ephemeral frame is then simply dropped; any
  /// other marks the outbox as overflowed and wakes the session to close it).
  bool push(const frame& f, frame_kind kind);

  /// Installs what is told when frames become available (or on overflow).
  void set_waker(std::weak_ptr<outbox_waker> waker);
  /// The same with a function, which the outbox then owns (for consumers that
  /// are not objects of their own: tests, an embedding's callback).
  void set_waker(std::function<void()> waker);

  /// Moves all pending frames to the back of `out`. Returns false once overflowed.
  bool take(std::vector<frame>& out);

  /// The session wrote `bytes` of what it took.
  void release(size_t bytes);

  /// No more frames are accepted; pending ones are discarded. A producer that
  /// closes the outbox (a replay that cannot complete) ends the connection: the
  /// consumer sees `closed()` and closes.
  void close();

  [[nodiscard]] bool closed() const;

  [[nodiscard]] size_t queued_bytes() const;

  /// A frame that may not be dropped did not fit: the consumer must close.
  [[nodiscard]] bool overflowed() const;

  // -- inbound backpressure ----------------------------------------------------
  // The session counts the commands it hands to the connection actor; the actor
  // calls command_done() when each is finished. The session stops reading the
  // socket while too many are unfinished (a saturated room or store), so that
  // nothing buffers without bound between the socket and the actors, and asks
  // to be woken (its waker) once enough are done.

  void command_done();
  [[nodiscard]] uint64_t commands_done() const { return done_.load(std::memory_order_acquire); }

  /// Wakes the consumer once commands_done() reaches `count`, holding `keep`
  /// (the consumer) until then. Returns false (and arranges nothing) when it
  /// already has, or the outbox is closed.
  [[nodiscard]] bool wake_when_done(uint64_t count, std::shared_ptr<outbox_waker> keep);

  /// Whether a frame of `size` bytes would be accepted now (for producers that
  /// can wait, such as a replay, instead of overflowing the queue).
  [[nodiscard]] bool has_room(size_t size) const;

  /// Calls `resume` (once, from the consumer's thread, outside the lock) when
  /// the consumer released bytes and a frame of `size` bytes would be accepted.
  /// Several producers may wait (one replay per room the connection joined), at
  /// most `max_resume_waiters`: past that the oldest is called at once (a
  /// producer called early checks for room again and waits anew).
  /// Returns false (and keeps nothing) when there is room already or the outbox
  /// is closed; `close()` drops what waits without calling it.
  [[nodiscard]] bool resume_when_room(size_t size, std::function<void()> resume);
  static constexpr size_t max_resume_waiters = 1024;

private:
  mutable std::mutex mtx_;
  std::vector<frame> pending_;
  std::weak_ptr<outbox_waker> waker_;
  std::shared_ptr<outbox_waker> owned_waker_; ///< from set_waker(function)
  size_t bytes_ = 0;
  size_t max_bytes_;
  std::shared_ptr<node_metrics> metrics_;
  bool wake_armed_ = true;
  bool overflowed_ = false;
  /// Written under the lock; read without it by closed(), which sessions ask
  /// on every write.
  std::atomic<bool> closed_{false};
  bool held_for_wait_ = false; ///< owned_waker_ is the consumer kept for wake_when_done
  std::atomic<uint64_t> done_{0};
  std::atomic<uint64_t> wake_at_{0}; ///< 0: nobody waits for commands to finish
  /// Producers waiting for room (resume_when_room): the size each waits for.
  std::vector<std::pair<size_t, std::function<void()>>> resume_;

  [[nodiscard]] bool room_for(size_t size) const; // under the lock

  void wake_consumer();
};

} // namespace chat::actors
