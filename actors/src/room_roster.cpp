#include "room_roster.hpp"

#include "chat/actors/events.hpp"

namespace chat::actors {

std::optional<frame> room_roster::add(std::string_view room, const std::string& user,
                                      bool& schedule_flush) {
  schedule_flush = false;
  if (users_[user]++ > 0)
    return std::nullopt;
  if (!dirty_)
    appended_.push_back(user);
  return changed(room, user, true, schedule_flush);
}

std::optional<frame> room_roster::remove(std::string_view room, const std::string& user,
                                         bool& schedule_flush) {
  schedule_flush = false;
  auto i = users_.find(user);
  if (i == users_.end() || --i->second > 0)
    return std::nullopt;
  users_.erase(i);
  dirty_ = true;
  appended_.clear();
  return changed(room, user, false, schedule_flush);
}

std::optional<frame> room_roster::changed(std::string_view room, const std::string& user,
                                          bool joined, bool& schedule_flush) {
  // A room that shrinks below the threshold still sends what it coalesced first.
  if (users_.size() + (joined ? 0 : 1) <= coalesce_above && !big_)
    return member_event(room, user, joined ? "join" : "leave");
  if (!big_)
    big_ = std::make_unique<coalesced>();
  big_->changes.try_emplace(user, !joined);
  if (!big_->flush_scheduled) {
    big_->flush_scheduled = true;
    schedule_flush = true;
  }
  return std::nullopt;
}

std::optional<frame> room_roster::flush(std::string_view room) {
  if (!big_)
    return std::nullopt;
  std::vector<std::string_view> joined;
  std::vector<std::string_view> left;
  for (auto& [user, was_in] : big_->changes) {
    bool is_in = users_.count(user) > 0;
    if (is_in && !was_in)
      joined.push_back(user);
    else if (!is_in && was_in)
      left.push_back(user);
  }
  std::optional<frame> out;
  if (!joined.empty() || !left.empty())
    out = members_event(room, joined, left);
  big_.reset(); // a room back at the threshold or below sends `member` events again
  return out;
}

frame room_roster::joined(std::string_view ref, std::string_view room, uint64_t seq,
                          const receipt_map& receipts) {
  auto add_member = [&](const std::string& user) {
    if (!members_.empty())
      members_ += ',';
    append_json_string(members_, user);
  };
  auto add_receipt = [&](const std::string& user) {
    if (auto r = receipts.find(user); r != receipts.end()) {
      if (!receipts_.empty())
        receipts_ += ',';
      append_json_string(receipts_, user);
      receipts_ += ':';
      receipts_ += std::to_string(r->second);
    }
  };
  if (dirty_) {
    members_.clear();
    for (auto& [user, n] : users_)
      add_member(user);
  } else {
    for (auto& user : appended_)
      add_member(user);
  }
  // A moved receipt rebuilds the receipts alone (reads are far more frequent
  // than joins and leaves, and the member list is the bigger one).
  if (dirty_ || receipts_dirty_) {
    receipts_.clear();
    for (auto& [user, n] : users_)
      add_receipt(user);
  } else {
    for (auto& user : appended_)
      add_receipt(user);
  }
  dirty_ = false;
  receipts_dirty_ = false;
  appended_.clear();
  return joined_event(ref, room, seq, members_, receipts_);
}

} // namespace chat::actors
