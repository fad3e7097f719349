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
  if (users_.size() + (joined ? 0 : 1) <= coalesce_above && changes_.empty())
    return member_event(room, user, joined ? "join" : "leave");
  changes_.try_emplace(user, !joined);
  if (!flush_scheduled_) {
    flush_scheduled_ = true;
    schedule_flush = true;
  }
  return std::nullopt;
}

std::optional<frame> room_roster::flush(std::string_view room) {
  flush_scheduled_ = false;
  std::vector<std::string_view> joined;
  std::vector<std::string_view> left;
  for (auto& [user, was_in] : changes_) {
    bool is_in = users_.count(user) > 0;
    if (is_in && !was_in)
      joined.push_back(user);
    else if (!is_in && was_in)
      left.push_back(user);
  }
  std::optional<frame> out;
  if (!joined.empty() || !left.empty())
    out = members_event(room, joined, left);
  changes_.clear();
  return out;
}

std::string_view room_roster::joined_lists(const receipt_map& receipts) {
  auto append = [&](const std::string& user) {
    if (!members_.empty())
      members_ += ',';
    append_json_string(members_, user);
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
    receipts_.clear();
    for (auto& [user, n] : users_)
      append(user);
    dirty_ = false;
  } else if (appended_.empty() && !lists_.empty()) {
    return lists_;
  } else {
    for (auto& user : appended_)
      append(user);
  }
  appended_.clear();
  lists_.clear();
  lists_.reserve(members_.size() + receipts_.size() + 26);
  lists_ += "\"members\":[";
  lists_ += members_;
  lists_ += "],\"receipts\":{";
  lists_ += receipts_;
  lists_ += '}';
  return lists_;
}

} // namespace chat::actors
