#include "chat/actors/presence_tracker.hpp"

#include <algorithm>

namespace chat::actors {

void presence_tracker::heartbeat(uint64_t device, int64_t now) {
  auto i = std::find_if(devices_.begin(), devices_.end(), [&](auto& d) {
    return d.first == device;
  });
  if (i == devices_.end())
    devices_.emplace_back(device, now);
  else
    i->second = now;
  last_seen_ = std::max(last_seen_, now);
}

void presence_tracker::disconnect(uint64_t device, int64_t now) {
  auto i = std::find_if(devices_.begin(), devices_.end(), [&](auto& d) {
    return d.first == device;
  });
  if (i == devices_.end())
    return;
  devices_.erase(i);
  if (devices_.empty())
    devices_.shrink_to_fit();
  last_seen_ = std::max(last_seen_, now);
}

void presence_tracker::expire(int64_t now) {
  devices_.erase(std::remove_if(devices_.begin(), devices_.end(),
                                [&](auto& d) {
                                  return now - d.second >= cfg_.ttl_ms;
                                }),
                 devices_.end());
  if (devices_.empty())
    devices_.shrink_to_fit();
}

std::optional<int64_t> presence_tracker::next_expiry() const {
  std::optional<int64_t> earliest;
  for (auto& [device, beat] : devices_)
    if (!earliest || beat + cfg_.ttl_ms < *earliest)
      earliest = beat + cfg_.ttl_ms;
  return earliest;
}

presence_tracker::decision presence_tracker::changed(int64_t now) {
  if (scheduled_)
    return {}; // the trailing publication will carry whatever the state is then
  if (online() == published_online_)
    return {};
  if (now - last_publish_ >= cfg_.coalesce_ms) {
    mark_published(now);
    return {decision::publish_now, now};
  }
  scheduled_ = true;
  return {decision::publish_at, last_publish_ + cfg_.coalesce_ms};
}

bool presence_tracker::due(int64_t now) {
  scheduled_ = false;
  if (online() == published_online_)
    return false;
  mark_published(now);
  return true;
}

void presence_tracker::mark_published(int64_t now) {
  published_online_ = online();
  last_publish_ = now;
}

} // namespace chat::actors
