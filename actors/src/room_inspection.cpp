#include "room_inspection.hpp"

#include <algorithm>

#include "chat/actors/events.hpp"
#include "chat/actors/mailbox.hpp"
#include "room_state.hpp"

namespace chat::actors {

frame room_view_frame(const room_view& v) {
  json_writer w;
  w.key("room").str(v.room).key("home").str(v.home);
  w.key("replicas").begin_array();
  for (auto& r : v.replicas)
    w.str(r);
  w.end_array();
  // The epoch is the ballot the room's home writes under (ADR 8): a newer home
  // has a higher one, and replicas refuse writes under an older one.
  w.key("epoch").num(v.meta.promised.n).key("seq").num(v.meta.seq);
  w.key("commit").num(v.meta.commit).key("trimmed").num(v.meta.trimmed);
  w.key("vc").begin_object();
  for (auto& [node, n] : v.meta.vc.entries())
    w.key(node).num(n);
  w.end_object();
  w.key("active").boolean(v.active);
  w.key("members").begin_array();
  for (auto& m : v.members) {
    w.begin_object().key("user").str(m.user).key("node").str(m.node);
    w.key("connection").str(m.connection).end_object();
  }
  w.end_array();
  w.key("mailbox").num(uint64_t{v.mailbox});
  w.key("recent").begin_array();
  for (auto& f : v.recent)
    w.raw(f.json());
  w.end_array();
  return w.finish();
}

namespace room {

frame inspect(room_self self) {
  auto& st = self->state;
  room_view v;
  v.room = st.room;
  v.home = st.node_id;
  v.replicas = st.nodes.replica_ids;
  v.active = true;
  v.meta = st.meta;
  for (auto& [addr, m] : st.members) {
    auto r = st.relays.find(m.relay.address());
    auto node = r != st.relays.end() ? r->second.node : std::string{};
    v.members.push_back({m.user, node, node + ":" + std::to_string(addr.id())});
  }
  std::sort(v.members.begin(), v.members.end(), [](auto& a, auto& b) {
    return std::tie(a.user, a.connection) < std::tie(b.user, b.connection);
  });
  v.mailbox = mailbox_backlog(self);
  for (auto& [seq, f] : st.recent)
    v.recent.push_back(f);
  if (v.recent.size() > room_view_recent)
    v.recent.erase(v.recent.begin(), v.recent.end() - room_view_recent);
  return room_view_frame(v);
}

} // namespace room

} // namespace chat::actors
