#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace chat::actors {

/// The presence state machine of one user, without actors or clocks (time is
/// passed in, in ms), so that tests drive it with a fake clock.
///
/// - A user is online while at least one device (connection) is registered and
///   has heart-beaten within the TTL; a device silent for longer is dropped.
/// - Changes are published with coalescing: the first change after a quiet period
///   is published at once (leading edge); further changes within `coalesce_ms` of
///   the last publication are folded into one trailing publication of the state
///   at that time, which is skipped if the state ended where it was published.
class presence_tracker {
public:
  struct config {
    int64_t ttl_ms = 30000;
    int64_t coalesce_ms = 250;
  };

  /// What the caller should do after a change.
  struct decision {
    enum kind { none, publish_now, publish_at } what = none;
    int64_t at_ms = 0; ///< for publish_at
  };

  explicit presence_tracker(config cfg, int64_t last_seen_ms = 0) :
    cfg_(cfg), last_seen_(last_seen_ms) {}

  /// The stored last-seen time arrived after the tracker started (it only
  /// ever moves forward).
  void seen(int64_t at) { last_seen_ = std::max(last_seen_, at); }

  /// A device connected or heart-beat (an unknown device counts as a connect).
  void heartbeat(uint64_t device, int64_t now);
  /// A device went away.
  void disconnect(uint64_t device, int64_t now);
  /// Drops the devices silent for longer than the TTL.
  void expire(int64_t now);

  [[nodiscard]] bool online() const { return !devices_.empty(); }
  [[nodiscard]] size_t devices() const { return devices_.size(); }
  /// Whether `device` is registered (it has not disconnected or expired).
  [[nodiscard]] bool has(uint64_t device) const {
    return std::any_of(devices_.begin(), devices_.end(), [&](auto& d) {
      return d.first == device;
    });
  }
  /// The last heartbeat of `device` (ms), if it is registered.
  [[nodiscard]] std::optional<int64_t> last_heartbeat(uint64_t device) const {
    for (auto& [d, at] : devices_)
      if (d == device)
        return at;
    return std::nullopt;
  }
  /// Last activity of any device (ms); for an offline user, when it was last seen.
  [[nodiscard]] int64_t last_seen() const { return last_seen_; }
  /// When the earliest device will expire, if any device is registered.
  [[nodiscard]] std::optional<int64_t> next_expiry() const;

  /// Call after heartbeat/disconnect/expire: whether (and when) to publish.
  [[nodiscard]] decision changed(int64_t now);
  /// Call when a scheduled publication is due: true if the state must be published.
  [[nodiscard]] bool due(int64_t now);
  /// A trailing publication is scheduled (the caller must call due() then).
  [[nodiscard]] bool publication_scheduled() const { return scheduled_; }
  /// The state watchers were last told.
  [[nodiscard]] bool published_online() const { return published_online_; }

private:
  void mark_published(int64_t now);

  config cfg_;
  /// (device, last heartbeat); a user has a handful of devices at most, and a
  /// vector costs one small allocation where a hash map costs two.
  std::vector<std::pair<uint64_t, int64_t>> devices_;
  int64_t last_seen_;
  bool published_online_ = false;
  int64_t last_publish_ = INT64_MIN / 2;
  bool scheduled_ = false;
};

} // namespace chat::actors
