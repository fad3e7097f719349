#include "directory_actor.hpp"

#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "chat/actors/messages.hpp"
#include "room_actor.hpp"

namespace chat::actors {

namespace {

struct directory_state {
  std::unordered_map<std::string, caf::actor> rooms;
  static inline const char* name = "directory";
};

using directory_self = caf::stateful_actor<directory_state>;

caf::behavior directory_actor(directory_self* self, std::string node_id, caf::actor store,
                              std::chrono::milliseconds room_idle) {
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& rooms = self->state.rooms;
    for (auto i = rooms.begin(); i != rooms.end(); ++i)
      if (i->second.address() == dm.source) {
        rooms.erase(i);
        return;
      }
  });
  return {
    [=](msg::resolve_room& x) -> caf::actor {
      auto& rooms = self->state.rooms;
      if (auto i = rooms.find(x.room); i != rooms.end())
        return i->second;
      auto room =
        spawn_room(self, x.room, node_id, store, caf::actor_cast<caf::actor>(self), room_idle);
      self->monitor(room);
      rooms.emplace(std::move(x.room), room);
      return room;
    },
    [=](msg::passivate_atom, const std::string& room) -> bool {
      auto& rooms = self->state.rooms;
      auto i = rooms.find(room);
      if (i == rooms.end()
          || caf::actor_cast<caf::strong_actor_ptr>(i->second) != self->current_sender())
        return false;
      self->demonitor(i->second);
      rooms.erase(i);
      return true;
    },
    [=](msg::shutdown_atom) -> bool {
      for (auto& [name, room] : self->state.rooms)
        self->send_exit(room, caf::exit_reason::user_shutdown);
      self->state.rooms.clear();
      return true;
    },
  };
}

} // namespace

caf::actor spawn_directory(caf::actor_system& sys, std::string node_id, caf::actor store,
                           std::chrono::milliseconds room_idle) {
  return sys.spawn(directory_actor, std::move(node_id), std::move(store), room_idle);
}

} // namespace chat::actors
