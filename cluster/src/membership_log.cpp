#include <algorithm>
#include <filesystem>
#include <random>

#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/actors/messages.hpp"
#include "chat/runtime/clock.hpp"
#include "membership_state.hpp"

// The membership log: who the members are is decided by a Raft group of the
// members themselves (canonical/raft through raft_node), one change at a time,
// so that every node counts the same members (ADR 10). Up and down stay each
// node's own failure detector's: a wrong "down" costs availability, never
// safety, because take-overs count over the members (ADR 8).

namespace chat::cluster {

namespace {

/// A repair that left rooms short is tried again after this long (doubling).
constexpr int64_t repair_retry_ms = 5000;
/// A "repaired" the leader has not yet recorded is sent again after this long.
constexpr int64_t report_retry_ms = 2000;
/// How long the leader waits for its "repaired" entry to apply before it
/// appends one again (a proposal lost with a leadership change).
constexpr int64_t record_wait_ms = 10000;

// A server's address in the log: "<node id> <endpoint>".
std::string log_address(const std::string& id, const std::string& endpoint) {
  return id + " " + endpoint;
}

std::pair<std::string, std::string> split_address(const std::string& address) {
  auto space = address.find(' ');
  if (space == std::string::npos)
    return {address, {}};
  return {address.substr(0, space), address.substr(space + 1)};
}

void send_packet(membership_self* self, raft_id to, raft_wire::bytes bytes) {
  for (auto& [id, p] : self->state.peers)
    if (p.info.raft_id == to && p.info.membership) {
      self->send(p.info.membership, raft_packet{std::move(bytes)});
      return;
    }
}

// One configuration change at a time (Raft dissertation §4.1); `changing`
// clears when it committed or failed, and the next tick looks again.
template <class Start>
void change(membership_self* self, const char* what, const std::string& node, Start start) {
  auto& st = self->state;
  spdlog::info("cluster: {} '{}' in the membership log", what, node);
  // Set first: a leader alone commits a command within `start`, and `done`
  // has then run already.
  st.changing = true;
  if (!start([self, what, node](int status) {
        self->state.changing = false;
        if (status != 0)
          spdlog::warn("cluster: {} '{}' in the membership log failed: {}", what, node,
                       raft_strerror(status));
      })) {
    st.changing = false;
    spdlog::warn("cluster: {} '{}' in the membership log did not start", what, node);
  }
}

// On the leader, once it committed an entry of its term: a member that said
// goodbye is removed; then a member that said hello and is not a voter is
// added (one that came back with a new log id, its data dir lost, replaces
// its old entry). Removals first: an add that keeps failing (a node whose
// promotion never completes) must not hold them up.
void reconcile(membership_self* self) {
  auto& st = self->state;
  if (!st.log || !st.log->may_change() || st.changing)
    return;
  // Before any add: a joiner whose promotion never completes must not keep
  // the take-overs counting with fewer copies (a review).
  if (st.copies.completes(log_voters(self)))
    return change(self, "recording that every member repaired its rooms after short",
                  std::to_string(st.copies.generation()), [&](auto done) {
                    return st.log->propose(
                      copies_ledger::complete_command(st.copies.generation()), done);
                  });
  auto servers = st.log->servers();
  for (auto& s : servers) {
    auto id = split_address(s.address).first;
    if (st.left.count(id) == 0 || s.id == st.log->id())
      continue;
    // Removed while down (an operator's removal): back up, it stays a member
    // (the removal's fences were lifted; rooms may be on it again).
    if (auto p = st.peers.find(id); p != st.peers.end() && p->second.up) {
      st.left.erase(id);
      spdlog::warn("cluster: '{}' is up again: not removed", id);
      continue;
    }
    return change(self, "removing", id, [&](auto done) {
      return st.log->remove(s.id, done);
    });
  }
  for (auto& [id, p] : st.peers) {
    if (!p.up || p.info.raft_id == 0 || st.left.count(id) != 0)
      continue;
    auto same = std::find_if(servers.begin(), servers.end(), [&](auto& s) {
      return s.id == p.info.raft_id;
    });
    if (same != servers.end() && same->voter)
      continue;
    auto stale = std::find_if(servers.begin(), servers.end(), [&](auto& s) {
      return s.id != p.info.raft_id && split_address(s.address).first == id;
    });
    if (stale != servers.end())
      return change(self, "replacing the old entry of", id, [&](auto done) {
        return st.log->remove(stale->id, done);
      });
    // Rooms written until now may have as few copies as there are voters;
    // once a voter more counts, a take-over asks fewer of the members than
    // meet such a room's copies. Recorded first (copies_ledger.hpp).
    auto voters =
      static_cast<uint32_t>(std::count_if(servers.begin(), servers.end(), [](auto& s) {
        return s.voter;
      }));
    if (voters < st.opts.replication
        && !st.copies.recorded_since(st.log->configuration_index()))
      return change(self, "recording that rooms may have fewer copies than R before adding", id,
                    [&](auto done) {
                      return st.log->propose(
                        copies_ledger::short_command(voters, st.log->configuration_index()),
                        done);
                    });
    auto address = log_address(id, p.info.endpoint);
    return change(self, "adding", id, [&](auto done) {
      return st.log->add_voter(p.info.raft_id, address, done);
    });
  }
}

// The leader appends "repaired <node>" for the ledger's current "short", once
// while one is in flight (a member reports again every 2 s until it sees the
// entry applied; each report used to append another copy of it).
void record_repaired(membership_self* self, const std::string& node, uint64_t generation) {
  auto& st = self->state;
  if (generation != st.copies.generation() || !st.copies.owes(node))
    return;
  auto now = runtime::steady_ms();
  auto& r = st.recording_repaired[node];
  if (r.generation == generation && now < r.until_ms)
    return;
  r = {generation, now + record_wait_ms};
  auto failed = [self, node, generation](int status) {
    auto& r = self->state.recording_repaired[node];
    if (status != 0 && r.generation == generation)
      r.until_ms = 0; // the next report proposes it again
  };
  if (!st.log->propose(copies_ledger::repaired_command(node, generation), failed))
    r.until_ms = 0;
}

// This node tells the leader it repaired (or records it, as the leader).
void report_repaired(membership_self* self, uint64_t generation) {
  auto& st = self->state;
  if (st.log->may_change())
    return record_repaired(self, st.me.node_id, generation);
  auto leader = st.log->leader_id();
  for (auto& [id, p] : st.peers)
    if (p.info.raft_id == leader && p.up && p.info.membership)
      self->send(p.info.membership, repaired_atom::value, generation);
}

// The next sweep after one that left rooms short: 5 s, doubling to 40 s (a
// sweep asks every stored room's home; the rooms it missed wait on a member
// down, and a member coming up starts the next sweep at once: add_peer).
int64_t retry_repair(membership_self* self, uint64_t generation) {
  auto& st = self->state;
  if (st.failed_generation != generation) {
    st.failed_generation = generation;
    st.repair_failures = 0;
  }
  auto wait =
    st.repair_again ? 0 : repair_retry_ms << std::min<uint32_t>(st.repair_failures++, 3);
  st.repair_again = false;
  st.next_repair_ms = runtime::steady_ms() + wait;
  return wait;
}

// While this node owes the ledger a repair (the cluster grew from fewer than R
// voters since it last repaired), its directory puts the rooms it stores back
// onto min(R, members) copies, and the leader records it. A repair that could
// not place every room is tried again; a report not yet applied is sent again.
void repair_for_ledger(membership_self* self) {
  auto& st = self->state;
  auto now = runtime::steady_ms();
  auto generation = st.copies.generation();
  // The wait after a repair (or a failed one) is for its own "short": one
  // that ended just as the next was recorded held the next up by 2 s, and a
  // member paused in those seconds kept the take-overs counting every member.
  bool waiting = now < st.next_repair_ms
                 && (st.reported == generation || st.failed_generation == generation);
  if (!st.copies.owes(st.me.node_id) || !admitted(self) || st.repairing || waiting
      || !st.copies.may_repair(log_voters(self).size()))
    return;
  if (st.reported == generation) {
    st.next_repair_ms = now + report_retry_ms;
    return report_repaired(self, generation);
  }
  st.repairing = true;
  // No timeout: the directory is this node's own, and its repair bounds each
  // room's take-over (15 s); a node with many rooms may take longer than any
  // fixed bound, and a timed-out request would start the sweep over.
  self->request(st.opts.directory, caf::infinite, msg::repair_atom::value)
    .then(
      [=](uint64_t rooms, uint64_t repaired) {
        auto& st = self->state;
        st.repairing = false;
        if (repaired < rooms) {
          auto wait = retry_repair(self, generation);
          spdlog::warn("cluster: {} of {} room(s) stored here are not on their copies yet; "
                       "repairing again in {} s",
                       rooms - repaired, rooms, wait / 1000);
          return;
        }
        st.repair_failures = 0;
        st.repair_again = false;
        st.reported = generation;
        st.next_repair_ms = runtime::steady_ms() + report_retry_ms;
        if (st.log)
          report_repaired(self, generation);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        st.repairing = false;
        auto wait = retry_repair(self, generation);
        spdlog::warn("cluster: the repair after the cluster grew did not complete ({}); "
                     "repairing again in {} s",
                     self->system().render(err), wait / 1000);
      });
}

// A join waiting to be admitted completes: the full view, then the
// directory may host rooms and users.
void complete_join(membership_self* self) {
  auto& st = self->state;
  if (st.ready.empty() || !admitted(self))
    return;
  publish_view(self);
  self->send(st.opts.directory, msg::joining_atom::value, false);
  for (auto& rp : st.ready)
    rp.deliver(true);
  st.ready.clear();
}

// The ledger changed what a take-over must count with: a new view says so.
void after_apply(membership_self* self) {
  if (short_copies(self) != self->state.copies_published)
    publish_view(self);
}

// After the log moved: a new configuration is a new view (members this node
// never met count, down, and are dialled).
void after_log(membership_self* self) {
  auto& st = self->state;
  if (!st.log)
    return;
  complete_join(self);
  if (st.log->configuration_index() == st.published)
    return after_apply(self);
  st.published = st.log->configuration_index();
  for (auto& s : st.log->servers()) {
    auto [id, endpoint] = split_address(s.address);
    add_down_peer(self, id, endpoint, s.id);
  }
  auto voters = log_voters(self);
  // A member the log removed while it was down (removed for good, or its
  // goodbye reached the leader but not this node) no longer counts here.
  for (auto& id : st.voters_published)
    if (voters.count(id) == 0)
      if (auto i = st.peers.find(id); i != st.peers.end() && !i->second.up) {
        self->demonitor(i->second.info.membership);
        st.peers.erase(i);
        spdlog::info("cluster: node '{}' is no longer a member (the membership log removed it)",
                     id);
      }
  st.voters_published = voters;
  for (auto i = st.removals.begin(); i != st.removals.end();)
    if (voters.count(i->id) == 0) {
      i->rp.deliver(true);
      i = st.removals.erase(i);
    } else {
      ++i;
    }
  spdlog::info("cluster: members (log index {}): {}", st.published, fmt::join(voters, ", "));
  publish_view(self);
}

} // namespace

void start_log(membership_self* self) {
  auto& st = self->state;
  if (st.log)
    return;
  raft_node::settings s;
  if (!st.opts.members_file.empty())
    s.dir = std::filesystem::path(st.opts.members_file).parent_path().string();
  s.address = log_address(st.me.node_id, st.me.endpoint);
  s.seed = std::random_device{}();
  // Elections well inside the failure timeout: the log must have a leader
  // again before the failure detector's view changes need one.
  auto election = std::clamp<long>(st.opts.failure_timeout.count() / 3, 150, 1000);
  s.election_timeout_ms = static_cast<unsigned>(election);
  s.heartbeat_ms = static_cast<unsigned>(election / 5);
  s.tick_ms = std::max(10u, s.heartbeat_ms / 2);
  s.send = [self](raft_id to, raft_wire::bytes bytes) {
    send_packet(self, to, std::move(bytes));
  };
  st.copies.reset(); // the log applies every entry again
  s.apply = [self](const std::string& command) {
    if (!self->state.copies.apply(command))
      spdlog::warn(
        "cluster: a membership log command this node does not know was skipped: '{}'", command);
  };
  try {
    st.log = std::make_unique<raft_node>(std::move(s));
    // A node started without --join and without a log starts one. If its
    // members file names others (it ran before the log existed, or its log was
    // lost), they still count (publish_view), so it writes nothing alone.
    if (!st.opts.joining && st.log->bootstrap())
      spdlog::info("cluster: a new cluster of '{}' (membership log bootstrapped)",
                   st.me.node_id);
    st.log->start(static_cast<uint64_t>(runtime::steady_ms()));
  } catch (const std::exception& e) {
    spdlog::error("cluster: the membership log cannot start: {}", e.what());
    st.log.reset();
    return;
  }
  st.me.raft_id = st.log->id();
  after_log(self);
  self->send(self, raft_tick_atom::value);
}

void on_raft_packet(membership_self* self, raft_packet& packet) {
  auto& st = self->state;
  if (!st.log)
    return;
  // Only from a member met (with a cluster secret: one that proved it). The
  // membership actor is published: anyone reaching the cluster port may send
  // it messages, and a Raft message can vote or rewrite the member set.
  auto from = self->current_sender();
  auto known = std::any_of(st.peers.begin(), st.peers.end(), [&](auto& kv) {
    return kv.second.info.membership && kv.second.info.membership.address() == from;
  });
  if (!known)
    return;
  if (!st.log->receive(packet.bytes))
    spdlog::warn("cluster: a membership log message that does not decode was dropped");
  after_log(self);
}

void on_raft_tick(membership_self* self) {
  auto& st = self->state;
  if (!st.log)
    return;
  st.log->advance(static_cast<uint64_t>(runtime::steady_ms()));
  if (st.log->unavailable()) {
    // raft stopped for good (a disk error, a conflict): open it again from
    // its disk rather than leave this node without a say in the members.
    spdlog::error("cluster: the membership log stopped ({}); opening it again",
                  raft_strerror(RAFT_SHUTDOWN));
    st.log.reset();
    st.changing = false;
    st.published = 0;
    return start_log(self); // schedules the next tick
  }
  if (st.log->strangers() > st.strangers_seen) {
    st.strangers_seen = st.log->strangers();
    auto now = runtime::steady_ms();
    if (now - st.strangers_warned_ms > 10000) {
      st.strangers_warned_ms = now;
      spdlog::error("cluster: membership log messages from another Raft group are dropped: a "
                    "node of this cluster lost its data dir and was started without --join "
                    "(it started a cluster of its own); restart it with --join");
    }
  }
  reconcile(self);
  after_log(self);
  repair_for_ledger(self);
  // Removals the log did not commit in time: the asker has given up.
  auto now = runtime::steady_ms();
  for (auto i = st.removals.begin(); i != st.removals.end();)
    if (now >= i->until_ms) {
      i->rp.deliver(
        caf::make_error(actors::errc::room_unavailable,
                        "the membership log did not remove '" + i->id + "' in time"));
      i = st.removals.erase(i);
    } else {
      ++i;
    }
  self->delayed_send(self, std::chrono::milliseconds(25), raft_tick_atom::value);
}

void on_repaired(membership_self* self, uint64_t generation) {
  auto& st = self->state;
  if (!st.log || !st.log->may_change())
    return;
  // Recorded for the member that sent it, never for a name in the message.
  auto from = self->current_sender();
  for (auto& [id, p] : st.peers)
    if (p.info.membership && p.info.membership.address() == from)
      return record_repaired(self, id, generation);
}

// Until this node applied its log up to the member set it uses, a "short"
// may be missing here: count with one copy (the largest quorum) meanwhile.
uint32_t short_copies(membership_self* self) {
  auto& st = self->state;
  if (!st.log)
    return 0;
  if (st.log->last_applied() < st.log->configuration_index())
    return 1;
  return st.copies.short_copies(log_voters(self)).value_or(0);
}

std::set<std::string> log_voters(membership_self* self) {
  std::set<std::string> out;
  if (self->state.log)
    for (auto& s : self->state.log->servers())
      if (s.voter)
        out.insert(split_address(s.address).first);
  return out;
}

// A voter in a configuration the leader's log committed: a node restarted
// with --join holds its old configuration (maybe naming it a voter although
// the leader has since removed it: it said goodbye), and its commit index
// starts at 0 until the leader's first append.
bool admitted(membership_self* self) {
  auto& log = self->state.log;
  return !log
         || (log_voters(self).count(self->state.me.node_id) != 0
             && log->commit_index() >= log->configuration_index());
}

log_status log_of(membership_self* self) {
  log_status out;
  auto& st = self->state;
  auto& log = st.log;
  if (!log)
    return out;
  out.index = log->configuration_index();
  out.commit = log->commit_index();
  out.term = log->term();
  for (auto& s : log->servers())
    if (s.id == log->leader_id())
      out.leader = split_address(s.address).first;
  auto voters = log_voters(self);
  out.voters.assign(voters.begin(), voters.end());
  out.copies = short_copies(self);
  out.shorts = st.copies.generation();
  out.repaired = st.copies.complete();
  return out;
}

actors::frame inspect(membership_self* self) {
  auto log = log_of(self);
  auto& st = self->state;
  actors::json_writer w;
  w.key("node").str(st.me.node_id).key("endpoint").str(st.me.endpoint);
  w.key("log").begin_object().key("index").num(log.index).key("commit").num(log.commit);
  w.key("term").num(log.term).key("leader");
  log.leader.empty() ? w.raw("null") : w.str(log.leader);
  w.key("voters").begin_array();
  for (auto& v : log.voters)
    w.str(v);
  w.end_array();
  // The copies ledger (copies_ledger.hpp): the last "short", who repaired since.
  auto& c = st.copies;
  w.key("copies")
    .begin_object()
    .key("short")
    .num(c.generation())
    .key("least")
    .num(uint64_t{c.least()});
  w.key("complete").boolean(c.complete()).key("repaired").begin_array();
  for (auto& id : c.repaired())
    w.str(id);
  w.end_array().key("counted").num(uint64_t{short_copies(self)}).end_object();
  w.end_object();
  // The peers as this node's failure detector sees them.
  w.key("peers").begin_array();
  for (auto& [id, p] : st.peers) {
    w.begin_object().key("id").str(id).key("endpoint").str(p.info.endpoint);
    w.key("up").boolean(p.up).end_object();
  }
  w.end_array();
  return w.finish();
}

} // namespace chat::cluster
