#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <utility>

#include "chat/actors/frame.hpp"

namespace chat::actors {

/// The most recent frames of a room, by seq, so that most catch-ups are served
/// from memory: at most 512 frames and 512 KiB (one frame always fits).
///
/// Nothing is allocated while it is empty: a std::deque allocates ~0.6 KiB as
/// it is constructed, and every room and relay has one, idle ones included.
class recent_frames {
public:
  using entry = std::pair<uint64_t, frame>;
  using container = std::deque<entry>;

  /// Appends a frame newer than the last one (an older or equal seq is ignored).
  void push(uint64_t seq, frame f) {
    if (!frames_)
      frames_ = std::make_unique<container>();
    else if (!frames_->empty() && seq <= frames_->back().first)
      return;
    bytes_ += f.size();
    frames_->emplace_back(seq, std::move(f));
    while (frames_->size() > max_frames || (frames_->size() > 1 && bytes_ > max_bytes)) {
      bytes_ -= frames_->front().second.size();
      frames_->pop_front();
    }
  }

  [[nodiscard]] bool empty() const { return !frames_ || frames_->empty(); }
  /// The oldest seq held (only when not empty).
  [[nodiscard]] uint64_t first_seq() const { return frames_->front().first; }

  [[nodiscard]] container::const_iterator begin() const { return frames().begin(); }
  [[nodiscard]] container::const_iterator end() const { return frames().end(); }

private:
  static constexpr size_t max_frames = 512;
  static constexpr size_t max_bytes = 512 * 1024;

  [[nodiscard]] const container& frames() const {
    static const container none;
    return frames_ ? *frames_ : none;
  }

  std::unique_ptr<container> frames_;
  size_t bytes_ = 0;
};

} // namespace chat::actors
