#include "directory_actor.hpp"

#include <unordered_map>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>

#include "chat/actors/messages.hpp"
#include "room_actor.hpp"

namespace chat::actors {

namespace {

using actor_map = std::unordered_map<std::string, caf::actor>;

struct directory_state {
  actor_map rooms;
  actor_map users; ///< presence actors
  static inline const char* name = "directory";
};

using directory_self = caf::stateful_actor<directory_state>;

bool erase_by_address(actor_map& xs, const caf::actor_addr& addr) {
  for (auto i = xs.begin(); i != xs.end(); ++i)
    if (i->second.address() == addr) {
      xs.erase(i);
      return true;
    }
  return false;
}

// Finds or activates the actor of `name` in `xs`.
template <class Spawn>
caf::actor resolve(directory_self* self, actor_map& xs, std::string name, Spawn spawn) {
  if (auto i = xs.find(name); i != xs.end())
    return i->second;
  auto a = spawn(name);
  self->monitor(a);
  xs.emplace(std::move(name), a);
  return a;
}

caf::behavior directory_actor(directory_self* self, directory_options opts, caf::actor store) {
  self->set_down_handler([=](caf::down_msg& dm) {
    if (!erase_by_address(self->state.rooms, dm.source))
      erase_by_address(self->state.users, dm.source);
  });
  auto me = caf::actor_cast<caf::actor>(self);
  return {
    [=](msg::resolve_room& x) -> caf::actor {
      return resolve(self, self->state.rooms, std::move(x.room), [&](const std::string& n) {
        return spawn_room(self, n, opts.node_id, store, me, opts.room_idle);
      });
    },
    [=](msg::resolve_user& x) -> caf::actor {
      return resolve(self, self->state.users, std::move(x.user), [&](const std::string& n) {
        return spawn_presence(self, n, store, me, opts.presence);
      });
    },
    [=](msg::find_room& x) -> caf::actor {
      auto& rooms = self->state.rooms;
      auto i = rooms.find(x.room);
      return i != rooms.end() ? i->second : caf::actor{};
    },
    [=](msg::passivate_atom, bool is_user, const std::string& name) -> bool {
      auto& xs = is_user ? self->state.users : self->state.rooms;
      auto i = xs.find(name);
      if (i == xs.end()
          || caf::actor_cast<caf::strong_actor_ptr>(i->second) != self->current_sender())
        return false;
      self->demonitor(i->second);
      xs.erase(i);
      return true;
    },
    [=](msg::shutdown_atom) -> bool {
      for (auto* xs : {&self->state.rooms, &self->state.users}) {
        for (auto& [name, a] : *xs)
          self->send_exit(a, caf::exit_reason::user_shutdown);
        xs->clear();
      }
      return true;
    },
  };
}

} // namespace

caf::actor spawn_directory(caf::actor_system& sys, directory_options opts, caf::actor store) {
  return sys.spawn(directory_actor, std::move(opts), std::move(store));
}

} // namespace chat::actors
