#pragma once

// How the directory routes a request about a room or user (a template per
// request type, shared by directory_actor.cpp and directory_admin.cpp): to the
// key's home node (forwarded once), held while this node joins, refused while
// it leaves, or answered here.

#include <optional>
#include <string>

#include "chat/actors/errc.hpp"
#include "directory_state.hpp"

namespace chat::actors::directory {

// The directory of the home node of `key` when that is another node, else
// nothing (answer here). Requests already forwarded once are answered here.
inline msg::directory_actor remote_home(directory_self self, const std::string& key,
                                        uint8_t hops) {
  auto& st = self->state;
  if (hops > 0 || st.ring.empty())
    return {};
  auto& owner = st.ring.owner(key);
  if (owner == st.node_id)
    return {};
  auto i = st.peers.find(owner);
  return i == st.peers.end() ? msg::directory_actor{} : i->second;
}

inline caf::error leaving(directory_self self) {
  return caf::make_error(errc::room_unavailable,
                         "node '" + self->state.node_id + "' is leaving the cluster");
}

// While the node joins, the current request waits (see joining_atom); true
// when it was held.
template <class Request>
bool hold(directory_self self, Request& x) {
  auto& st = self->state;
  if (!st.joining)
    return false;
  auto rp = self->make_response_promise();
  auto me = caf::actor_cast<msg::directory_actor>(self);
  st.held.push_back([me, rp, x]() mutable {
    rp.delegate(me, std::move(x));
  });
  return true;
}

// Forwards the current request to `home` (which answers the requester directly).
template <class Request>
void forward(directory_self self, const msg::directory_actor& home, Request x) {
  x.hops = 1;
  self->delegate(home, std::move(x));
}

// Where a request about `key` is answered: forwarded to the key's home (once),
// held while this node joins, refused while it leaves, or here.
enum class route { here, elsewhere, leaving };

template <class Request>
route route_of(directory_self self, const std::string& key, Request& x) {
  if (auto home = remote_home(self, key, x.hops)) {
    forward(self, home, std::move(x));
    return route::elsewhere;
  }
  if (hold(self, x))
    return route::elsewhere;
  return self->state.leaving ? route::leaving : route::here;
}

// The answer to a request that is not answered here (forwarded or held: delegated;
// this node is leaving: the error), or nothing when it is answered here.
template <class Result, class Request>
std::optional<caf::result<Result>> not_here(directory_self self, const std::string& key,
                                            Request& x) {
  switch (route_of(self, key, x)) {
    case route::elsewhere:
      return caf::result<Result>{caf::delegated<Result>{}};
    case route::leaving:
      return caf::result<Result>{leaving(self)};
    default:
      return std::nullopt;
  }
}

} // namespace chat::actors::directory
