#include <spdlog/spdlog.h>

#include "chat/actors/events.hpp"
#include "relay_state.hpp"

namespace chat::actors::relay {

namespace {

// A replay that found its member's outbox full goes on when the session has
// written enough of it to take a frame of `size` (the outbox calls back on the
// session's thread), not on a timer. The relay is held weakly: a member that
// never reads keeps nothing alive.
void wait_for_room(relay_self self, local_member& m, caf::actor_id key, size_t size) {
  auto generation = m.generation;
  auto relay = caf::actor_cast<caf::weak_actor_ptr>(self);
  auto resume = [relay, key, generation] {
    if (auto strong = relay.lock())
      caf::anon_send(caf::actor_cast<msg::relay_actor>(strong), msg::replay_atom::value, key,
                     generation);
  };
  if (!m.out->resume_when_room(size, resume) && !m.out->closed())
    self->send(self, msg::replay_atom::value, key, generation); // room came meanwhile
}

// Tells a member that its replay goes on from `first` (what came before was
// removed by retention); false (and waits for room) when its outbox is full.
bool notice_trimmed(relay_self self, local_member& m, caf::actor_id key, uint64_t first) {
  auto notice = trimmed_event(self->state.room, first);
  if (!m.out->has_room(notice.size())) {
    wait_for_room(self, m, key, notice.size());
    return false;
  }
  m.out->push(notice, frame_kind::stored);
  m.delivered = first - 1;
  return true;
}

} // namespace

// Brings a member that joined with `since` up to the live stream: from the
// recent frames when they reach back far enough, else from the room in batches.
// Live fan-out skips the member until then, so the replay and the live messages
// never interleave. The replay never overflows the member's outbox: when it is
// full, the replay pauses and resumes from where it stopped once there is room.
void catch_up(relay_self self, caf::actor_id key) {
  auto& st = self->state;
  auto i = st.members.find(key);
  if (i == st.members.end())
    return;
  auto& m = i->second;
  // A replay from before what retention keeps starts with a notice of where
  // the log now starts (docs/protocol.md), never with removed messages.
  if (m.delivered < m.trimmed && !notice_trimmed(self, m, key, m.trimmed + 1))
    return;
  if (m.delivered >= st.seq) {
    m.live = true;
    return;
  }
  if (!st.recent.empty() && st.recent.first_seq() <= m.delivered + 1) {
    for (auto& [seq, f] : st.recent) {
      if (seq <= m.delivered)
        continue;
      if (seq != m.delivered + 1)
        break; // the recent frames have a hole: fetch the rest
      if (!m.out->has_room(f.size()))
        return wait_for_room(self, m, key, f.size());
      m.out->push(f, frame_kind::stored);
      m.delivered = seq;
    }
    if (m.delivered >= st.seq) {
      m.live = true;
      return;
    }
  }
  auto generation = m.generation;
  self->request(st.home, room_request_timeout, msg::room_fetch{m.delivered, replay_batch})
    .then(
      [=](msg::seq_frames& xs) {
        auto& st = self->state;
        auto i = st.members.find(key);
        if (i == st.members.end() || i->second.generation != generation)
          return;
        auto& m = i->second;
        // Retention removed more since the join: the same notice.
        auto first = xs.empty() ? st.seq + 1 : xs.front().seq;
        if (first > m.delivered + 1 && !notice_trimmed(self, m, key, first))
          return;
        for (auto& x : xs) {
          if (x.seq <= m.delivered)
            continue;
          if (!m.out->has_room(x.frame.size()))
            return wait_for_room(self, m, key, x.frame.size());
          m.out->push(x.frame, frame_kind::stored);
          m.delivered = x.seq;
        }
        catch_up(self, key);
      },
      [=](caf::error&) {
        auto& st = self->state;
        auto i = st.members.find(key);
        if (i == st.members.end() || i->second.generation != generation)
          return;
        // The replay cannot complete: closing the outbox makes the session drop
        // the connection, and the client rejoins with `since` and loses nothing.
        i->second.out->close();
      });
}

} // namespace chat::actors::relay
