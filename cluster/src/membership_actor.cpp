#include "membership_actor.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/mailbox.hpp"
#include "chat/actors/messages.hpp"
#include "chat/cluster/membership.hpp"
#include "chat/runtime/clock.hpp"
#include "chat/runtime/endpoint.hpp"
#include "chat/runtime/log.hpp"
#include "cluster_link.hpp"
#include "cluster_messages.hpp"
#include "cluster_secret.hpp"
#include "membership_state.hpp"

namespace chat::cluster {

namespace {

/// A down member is dialled again this often: it may have been paused or cut
/// off, and its middleman connection is gone (nobody else reconnects it).
constexpr int64_t redial_interval_ms = 1000;

/// A challenge is answered within this long, or not at all.
constexpr int64_t nonce_ttl_ms = 10000;
/// Challenges outstanding at most (a flood of them pushes out the oldest).
constexpr size_t max_nonces = 1024;

// Every member known (down ones too), so that a restarted node still counts
// them (ADR 8). Written to a temporary file first: a crash leaves the old list.
void save_members(membership_self* self) {
  auto& st = self->state;
  if (st.opts.members_file.empty())
    return;
  auto tmp = st.opts.members_file + ".tmp";
  {
    std::ofstream out{tmp, std::ios::trunc};
    for (auto& [id, p] : st.peers)
      out << id << ' ' << p.info.endpoint << '\n';
    if (!out)
      return spdlog::warn("cluster: cannot write {}", tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, st.opts.members_file, ec);
  if (ec)
    spdlog::warn("cluster: cannot write {}: {}", st.opts.members_file, ec.message());
}

void load_members(membership_self* self) {
  auto& st = self->state;
  if (st.opts.members_file.empty())
    return;
  std::ifstream in{st.opts.members_file};
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    std::istringstream fields{line};
    std::string id, endpoint, error;
    if (!(fields >> id >> endpoint) || !runtime::parse_endpoint(endpoint, error)) {
      spdlog::warn("cluster: {} line {} ignored (want \"ID HOST:PORT\"): '{}'",
                   st.opts.members_file, n, line);
      continue;
    }
    if (id != st.opts.node_id) {
      auto& p = st.peers[id];
      p.info.node_id = id;
      p.info.endpoint = endpoint;
    }
  }
  if (!st.peers.empty())
    spdlog::info("cluster: {} member(s) known from before the restart; dialling them",
                 st.peers.size());
}

} // namespace

// The directory rebuilds its ring from every view: the members up (this node
// included). Who is a member is the membership log's voters (every node met
// before the log has any); `members` counts them, up or down (ADR 8's quorum).
void publish_view(membership_self* self) {
  auto& st = self->state;
  save_members(self);
  auto voters = log_voters(self);
  auto counts = [&](const std::string& id) {
    return voters.empty() || voters.count(id) != 0;
  };
  msg::cluster_view view;
  if (counts(st.me.node_id)) {
    view.nodes.push_back(st.me.node_id);
    view.directories.push_back(st.me.directory);
    view.endpoints.push_back(st.me.endpoint);
  }
  for (auto& [id, p] : st.peers)
    if (p.up && counts(id)) {
      view.nodes.push_back(id);
      view.directories.push_back(p.info.directory);
      view.endpoints.push_back(p.info.endpoint);
    } else if (!p.up) {
      view.down.push_back(id);
      view.down_endpoints.push_back(p.info.endpoint);
    }
  // Counted: the voters and every other node met (a joiner not yet added, a
  // node of another log): more members only ask a larger quorum. A node whose
  // log names itself alone — a first node restarted on a wiped data dir — so
  // still counts the members that dial it and writes nothing alone (review).
  std::set<std::string> counted(voters.begin(), voters.end());
  counted.insert(st.me.node_id);
  for (auto& [id, p] : st.peers)
    counted.insert(id);
  view.members = static_cast<uint32_t>(counted.size());
  view.epoch = st.log ? st.log->configuration_index() : 0;
  view.committed = st.log ? st.log->commit_index() : 0;
  view.copies = st.copies_published = short_copies(self);
  view.membership = caf::actor_cast<caf::actor>(self);
  runtime::log_context cid{"view:" + std::to_string(view.epoch)};
  spdlog::info("cluster: view of {} is {} node(s) of {} member(s) (member set {}{}): {}",
               st.me.node_id, view.nodes.size(), view.members, view.epoch,
               view.copies == 0 ? std::string{}
                                : "; rooms may have " + std::to_string(view.copies)
                                    + " copies until every member repaired",
               fmt::join(view.nodes, ", "));
  self->send(st.opts.directory, std::move(view));
}

bool add_down_peer(membership_self* self, const std::string& id, const std::string& endpoint,
                   uint64_t raft_id) {
  auto& st = self->state;
  if (id == st.me.node_id || st.peers.count(id) != 0)
    return false;
  auto& p = st.peers[id];
  p.info.node_id = id;
  p.info.endpoint = endpoint;
  p.info.raft_id = raft_id;
  p.last_dial_ms = runtime::steady_ms();
  spdlog::warn("cluster: node '{}' ({}) counts as a member, down until it answers", id,
               endpoint);
  return true;
}

namespace {

// This node first, then every member up.
member_list known_members(membership_self* self) {
  member_list out{self->state.me};
  for (auto& [id, p] : self->state.peers)
    if (p.up)
      out.push_back(p.info);
  return out;
}

// Whether `x` answers a challenge this node issued (each answers once).
bool proven(membership_self* self, const hello& x) {
  auto& st = self->state;
  auto i = st.nonces.find(x.nonce);
  if (i == st.nonces.end() || i->second < runtime::steady_ms())
    return false;
  st.nonces.erase(i);
  return st.secret.verify("hello", x.nonce, x.info.node_id, x.proof);
}

// Why the node saying `x` may not join, or an empty string.
std::string refusal(membership_self* self, const hello& x) {
  auto& st = self->state;
  auto& info = x.info;
  if (st.secret.enabled() && !proven(self, x))
    return "node '" + info.node_id + "' does not know the cluster secret";
  if (info.version != protocol_version)
    return "node '" + info.node_id + "' speaks protocol version " + std::to_string(info.version)
           + ", this cluster speaks " + std::to_string(protocol_version);
  if (info.node_id == st.me.node_id)
    return "node id '" + info.node_id + "' is already in use (by " + st.me.endpoint + ")";
  // The same id at the same endpoint is that node restarted (as a supervisor
  // does within a second, before the failure detector noticed): its old
  // incarnation cannot listen there any more, so this one replaces it (see
  // add_peer). Elsewhere it is a second node with a taken id.
  auto i = st.peers.find(info.node_id);
  if (i != st.peers.end() && i->second.up && i->second.info.membership != info.membership
      && i->second.info.endpoint != info.endpoint)
    return "node id '" + info.node_id + "' is already in use (by " + i->second.info.endpoint
           + ")";
  return {};
}

// Adds (or refreshes) a member; true when the view changed.
bool add_peer(membership_self* self, const node_info& info) {
  auto& st = self->state;
  auto& p = st.peers[info.node_id];
  st.left.erase(info.node_id); // back after a goodbye: a member again
  bool changed = !p.up || p.info.membership != info.membership;
  if (p.info.membership && p.info.membership != info.membership)
    self->demonitor(p.info.membership);
  // Always the newest handle: after a lost connection the old one is a dead
  // proxy that compares equal to the new one.
  p.info = info;
  if (changed) {
    self->monitor(info.membership);
    if (p.up)
      spdlog::warn("cluster: node '{}' restarted ({}): its new incarnation replaces the old",
                   info.node_id, info.endpoint);
    else
      spdlog::info("cluster: node '{}' is up ({})", info.node_id, info.endpoint);
    // A repair for the copies ledger that missed rooms (their home was down)
    // is tried again now rather than after its back-off (once the sweep in
    // flight, if any, ends).
    if (st.repairing)
      st.repair_again = true;
    else if (st.repair_failures > 0)
      st.next_repair_ms = 0;
    st.repair_failures = 0;
  }
  p.up = true;
  p.last_heard_ms = runtime::steady_ms();
  return changed;
}

void mark_down(membership_self* self, const std::string& id, const char* why) {
  auto i = self->state.peers.find(id);
  if (i == self->state.peers.end() || !i->second.up)
    return;
  i->second.up = false;
  spdlog::warn("cluster: node '{}' is down ({})", id, why);
  publish_view(self);
}

// A member the seed listed that this node could not reach yet: it counts
// (a take-over here needs it: ADR 8) and the tick dials it until it answers.
// Without this, the two never learned of each other until a restart.
void add_known(membership_self* self, const node_info& info) {
  if (add_down_peer(self, info.node_id, info.endpoint, info.raft_id))
    publish_view(self);
}

// Says hello to another membership actor — with a cluster secret, after its
// challenge, and accepting its answer only with its own proof — and gives
// `done` the members it knows (itself first), or `failed` why not.
void say_hello(membership_self* self, const caf::actor& other,
               std::function<void(member_list&)> done,
               std::function<void(caf::error&)> failed) {
  constexpr auto timeout = std::chrono::seconds(5);
  auto& st = self->state;
  if (!st.secret.enabled()) {
    self->request(other, timeout, hello{st.me, {}, {}, {}}).then(done, failed);
    return;
  }
  self->request(other, timeout, challenge_atom::value)
    .then(
      [=](std::string& nonce) {
        auto& st = self->state;
        auto mine = cluster_secret::nonce();
        hello h{st.me, nonce, mine, st.secret.prove("hello", nonce, st.me.node_id)};
        self->request(other, timeout, std::move(h))
          .then(
            [=](member_list& theirs) {
              if (theirs.empty()
                  || !self->state.secret.verify("welcome", mine, theirs.front().node_id,
                                                theirs.front().proof)) {
                auto err = caf::make_error(actors::errc::bad_argument,
                                           "the other node does not know the cluster secret");
                return failed(err);
              }
              done(theirs);
            },
            failed);
      },
      failed);
}

// A down member that answers again is up again (after SIGCONT, or a healed
// partition): a new middleman connection, then the same hello as a join.
void redial(membership_self* self, const std::string& id, const std::string& endpoint) {
  std::string err;
  auto ep = runtime::parse_endpoint(endpoint, err);
  if (!ep)
    return;
  auto target = dial_target(self->state.opts.dial, *ep);
  auto mm = link_manager(self->home_system(), self->state.opts.tls);
  self->request(mm, std::chrono::seconds(2), caf::connect_atom::value, target.host, target.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        if (!ptr)
          return;
        auto member = caf::actor_cast<caf::actor>(ptr);
        say_hello(
          self, member,
          [=](member_list& theirs) {
            if (!theirs.empty() && theirs.front().node_id == id
                && add_peer(self, theirs.front()))
              publish_view(self);
          },
          [=](caf::error& err) {
            if (err == actors::errc::bad_argument)
              spdlog::error("cluster: '{}' is back but refused: {}", id,
                            self->system().render(err));
          });
      },
      [](caf::error&) {});
}

// A nonce for the next hello (cluster secret); expired ones go first.
std::string challenge(membership_self* self) {
  auto& nonces = self->state.nonces;
  auto now = runtime::steady_ms();
  for (auto i = nonces.begin(); i != nonces.end();)
    i = i->second < now ? nonces.erase(i) : std::next(i);
  if (nonces.size() >= max_nonces)
    nonces.erase(std::min_element(nonces.begin(), nonces.end(), [](auto& a, auto& b) {
      return a.second < b.second;
    }));
  auto nonce = cluster_secret::nonce();
  nonces.emplace(nonce, now + nonce_ttl_ms);
  return nonce;
}

// Another node says hello: admitted (it learns every member this node knows,
// this one first, with its proof of the secret) or refused with the reason.
caf::result<member_list> welcome(membership_self* self, hello& x) {
  if (auto why = refusal(self, x); !why.empty()) {
    spdlog::error("cluster: refused {}: {}", x.info.endpoint, why);
    return caf::make_error(actors::errc::bad_argument, why);
  }
  if (add_peer(self, x.info))
    publish_view(self);
  auto members = known_members(self);
  members.front().proof =
    self->state.secret.prove("welcome", x.client_nonce, self->state.me.node_id);
  return members;
}

void on_beat(membership_self* self, const std::string& id) {
  auto& peers = self->state.peers;
  auto i = peers.find(id);
  if (i == peers.end())
    return;
  auto now = runtime::steady_ms();
  auto& p = i->second;
  p.last_heard_ms = now;
  // A partition healed, or the node was paused: it is alive again. Our
  // handle to it went with the lost connection (its messages would vanish),
  // so it is up again only after a fresh dial and hello.
  if (!p.up && now - p.last_dial_ms >= redial_interval_ms / 4) {
    p.last_dial_ms = now;
    spdlog::info("cluster: node '{}' is heard again; dialling it", id);
    redial(self, id, p.info.endpoint);
  }
}

void on_bye(membership_self* self, const std::string& id) {
  auto& peers = self->state.peers;
  auto i = peers.find(id);
  // Only from the member itself: the actor is published, and anyone reaching
  // the cluster port could otherwise say goodbye for a member.
  if (i == peers.end() || !i->second.info.membership
      || i->second.info.membership.address() != self->current_sender())
    return;
  self->demonitor(i->second.info.membership);
  bool was_up = i->second.up;
  peers.erase(i);
  self->state.left.insert(id); // the log's leader removes it
  spdlog::info("cluster: node '{}' left", id);
  if (was_up)
    publish_view(self);
  else
    save_members(self);
}

// A member gone for good is removed (the admin API's removal, after every node
// up repaired without it): from this node's directory, which tells every
// member up, or from a member. Each notes it as left, and whichever node leads
// the membership log removes it (as after a goodbye).
caf::result<bool> on_remove(membership_self* self, const std::string& id) {
  auto& st = self->state;
  auto sender = self->current_sender();
  bool local = sender && sender->node() == self->node();
  bool member = std::any_of(st.peers.begin(), st.peers.end(), [&](auto& kv) {
    return kv.second.info.membership && kv.second.info.membership.address() == sender;
  });
  if (!local && !member)
    return caf::make_error(actors::errc::bad_argument, "not from a member");
  auto i = st.peers.find(id);
  if (i == st.peers.end() || log_voters(self).count(id) == 0)
    return caf::make_error(actors::errc::not_found, "no member '" + id + "'");
  if (i->second.up) {
    spdlog::warn("cluster: asked to remove member '{}', which is up here: not removed", id);
    return caf::make_error(actors::errc::bad_argument,
                           "node '" + id + "' is up in node '" + st.me.node_id + "''s view");
  }
  st.left.insert(id); // the log's leader removes it, while it stays down
  spdlog::warn("cluster: member '{}' is gone for good and is being removed", id);
  if (!local)
    return true;
  // A request, not a send: an answer to a send comes back as an ordinary
  // message, and an error one ends the receiving actor (CAF 0.17).
  for (auto& [other, p] : st.peers)
    if (p.up && p.info.membership)
      self->request(p.info.membership, std::chrono::seconds(5), msg::remove_atom::value, id)
        .then([](bool) {},
              [=, other = other](caf::error& err) {
                spdlog::warn("cluster: node '{}' did not note '{}' as removed: {}", other, id,
                             self->system().render(err));
              });
  // Answered once this node's log holds a member set without it (after_log).
  auto rp = self->make_response_promise<bool>();
  st.removals.push_back({id, rp, runtime::steady_ms() + removal_wait_ms});
  return rp;
}

// Heartbeats to the members that are up, the failure detector, and redials of
// the ones that are down.
void on_tick(membership_self* self) {
  auto& st = self->state;
  auto now = runtime::steady_ms();
  for (auto& [id, p] : st.peers) {
    if (!p.up) {
      if (now - p.last_dial_ms >= redial_interval_ms) {
        p.last_dial_ms = now;
        redial(self, id, p.info.endpoint);
      }
      continue;
    }
    self->send(p.info.membership, beat_atom::value, st.me.node_id);
    if (now - p.last_heard_ms > st.opts.failure_timeout.count())
      mark_down(self, id, "no heartbeat");
  }
  self->delayed_send(self, st.opts.heartbeat, tick_atom::value);
}

// Says hello to `member` (the seed of a join, or each member the seed named)
// and takes it as a peer: a member answers with itself first (known_members).
// The request is answered with what `answer` makes of the member list.
template <class Result, class Answer>
caf::result<Result> introduce(membership_self* self, caf::actor member, Answer answer) {
  auto rp = self->make_response_promise<Result>();
  say_hello(
    self, member,
    [=](member_list& members) mutable {
      if (!members.empty() && add_peer(self, members.front()))
        publish_view(self);
      rp.deliver(answer(members));
    },
    [=](caf::error& err) mutable {
      rp.deliver(err);
    });
  return rp;
}

member_statuses statuses(membership_self* self) {
  member_statuses out{{{self->state.me.node_id, self->state.me.endpoint, true}}};
  for (auto& [id, p] : self->state.peers)
    out.members.push_back({id, p.info.endpoint, p.up});
  return out;
}

caf::behavior membership_actor(membership_self* self, membership_settings opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.secret = cluster_secret{st.opts.secrets};
  st.me = node_info{st.opts.node_id,   protocol_version, caf::actor_cast<caf::actor>(self),
                    st.opts.directory, st.opts.endpoint, {}};
  self->set_down_handler([=](caf::down_msg& dm) {
    for (auto& [id, p] : self->state.peers)
      if (p.info.membership.address() == dm.source) {
        mark_down(self, id, "connection lost");
        return;
      }
  });
  load_members(self);
  self->send(self, tick_atom::value);
  publish_view(self);
  return {
    [=](challenge_atom) {
      return challenge(self);
    },
    [=](hello& x) {
      return welcome(self, x);
    },
    // Joining: a hello to the seed (answered with every member it knows), then
    // one to each of them over a direct connection (`greet`).
    [=](join_atom, caf::actor seed) {
      return introduce<member_list>(self, seed, [](member_list& members) {
        return std::move(members);
      });
    },
    [=](greet_atom, caf::actor member) {
      return introduce<bool>(self, member, [](member_list&) {
        return true;
      });
    },
    [=](known_atom, const node_info& info) {
      add_known(self, info);
    },
    [=](beat_atom, const std::string& id) {
      on_beat(self, id);
    },
    [=](bye_atom, const std::string& id) {
      on_bye(self, id);
    },
    [=](msg::remove_atom, const std::string& id) {
      return on_remove(self, id);
    },
    [=](tick_atom) {
      on_tick(self);
    },
    // The join is complete once this node is a voter of the membership log
    // (the leader adds it after its hello); until then it hosts nothing.
    [=](ready_atom) -> caf::result<bool> {
      if (!admitted(self)) {
        auto rp = self->make_response_promise();
        self->state.ready.push_back(rp);
        return caf::delegated<bool>{};
      }
      publish_view(self);
      self->send(self->state.opts.directory, msg::joining_atom::value, false);
      return true;
    },
    [=](raft_packet& packet) {
      on_raft_packet(self, packet);
    },
    [=](raft_tick_atom) {
      on_raft_tick(self);
    },
    [=](repaired_atom, uint64_t generation) {
      on_repaired(self, generation);
    },
    [=](status_atom) {
      return statuses(self);
    },
    [=](log_atom) {
      return log_of(self);
    },
    [=](msg::inspect_atom) {
      return caf::make_message(actors::mailbox_backlog(self), inspect(self));
    },
    [=](endpoint_atom, std::string& endpoint) {
      self->state.me.endpoint = std::move(endpoint);
      start_log(self);
    },
    [=](leave_atom, bool goodbye) {
      if (goodbye)
        for (auto& [id, p] : self->state.peers)
          if (p.up)
            self->send(p.info.membership, bye_atom::value, self->state.me.node_id);
      self->quit();
    },
  };
}

} // namespace

caf::actor spawn_membership(caf::actor_system& sys, membership_settings settings) {
  return sys.spawn(membership_actor, std::move(settings));
}

} // namespace chat::cluster
