#include "membership_actor.hpp"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/messages.hpp"
#include "chat/cluster/membership.hpp"
#include "chat/runtime/clock.hpp"
#include "chat/runtime/endpoint.hpp"
#include "cluster_messages.hpp"

namespace chat::cluster {

namespace {

struct peer {
  node_info info;
  int64_t last_heard_ms = 0;
  int64_t last_dial_ms = 0; ///< when a down peer was last dialled
  bool up = false;
};

/// A down member is dialled again this often: it may have been paused or cut
/// off, and its middleman connection is gone (nobody else reconnects it).
constexpr int64_t redial_interval_ms = 1000;

struct membership_state {
  membership_settings opts;
  node_info me;
  std::map<std::string, peer> peers; ///< node id -> what we know of it
  static inline const char* name = "membership";
};

using membership_self = caf::stateful_actor<membership_state>;

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

// The directory rebuilds its ring from every view: this node and the peers up.
void publish_view(membership_self* self) {
  auto& st = self->state;
  save_members(self);
  msg::cluster_view view;
  view.nodes.push_back(st.me.node_id);
  view.directories.push_back(st.me.directory);
  for (auto& [id, p] : st.peers)
    if (p.up) {
      view.nodes.push_back(id);
      view.directories.push_back(p.info.directory);
    }
  view.members = static_cast<uint32_t>(st.peers.size() + 1);
  spdlog::info("cluster: view of {} is {} node(s): {}", st.me.node_id, view.nodes.size(),
               fmt::join(view.nodes, ", "));
  self->send(st.opts.directory, std::move(view));
}

// This node first, then every member up.
member_list known_members(membership_self* self) {
  member_list out{self->state.me};
  for (auto& [id, p] : self->state.peers)
    if (p.up)
      out.push_back(p.info);
  return out;
}

// Why `info` may not join, or an empty string.
std::string refusal(membership_self* self, const node_info& info) {
  auto& st = self->state;
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


// A down member that answers again is up again (after SIGCONT, or a healed
// partition): a new middleman connection, then the same hello as a join.
void redial(membership_self* self, const std::string& id, const std::string& endpoint) {
  std::string err;
  auto ep = runtime::parse_endpoint(endpoint, err);
  if (!ep)
    return;
  auto target = dial_target(self->state.opts.dial, *ep);
  auto mm = self->home_system().middleman().actor_handle();
  self->request(mm, std::chrono::seconds(2), caf::connect_atom::value, target.host, target.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
        if (!ptr)
          return;
        auto member = caf::actor_cast<caf::actor>(ptr);
        self->request(member, std::chrono::seconds(2), hello{self->state.me})
          .then(
            [=](member_list& theirs) {
              if (!theirs.empty() && theirs.front().node_id == id && add_peer(self, theirs.front()))
                publish_view(self);
            },
            [](caf::error&) {});
      },
      [](caf::error&) {});
}

caf::behavior membership_actor(membership_self* self, membership_settings opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.me = node_info{st.opts.node_id, protocol_version, caf::actor_cast<caf::actor>(self),
                    st.opts.directory, st.opts.endpoint};
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
    [=](hello& x) -> caf::result<member_list> {
      if (auto why = refusal(self, x.info); !why.empty()) {
        spdlog::error("cluster: refused {}: {}", x.info.endpoint, why);
        return caf::make_error(actors::errc::bad_argument, why);
      }
      if (add_peer(self, x.info))
        publish_view(self);
      return known_members(self);
    },
    // Joining: a hello to the seed (answered with every member it knows), then
    // one to each of them over a direct connection (`greet`).
    [=](join_atom, caf::actor seed) -> caf::result<member_list> {
      auto rp = self->make_response_promise<member_list>();
      self->request(seed, std::chrono::seconds(5), hello{self->state.me})
        .then(
          [=](member_list& members) mutable {
            // A member answers with itself first (see known_members).
            if (!members.empty() && add_peer(self, members.front()))
              publish_view(self);
            rp.deliver(std::move(members));
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [=](greet_atom, caf::actor member) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      self->request(member, std::chrono::seconds(5), hello{self->state.me})
        .then(
          [=](member_list& theirs) mutable {
            if (!theirs.empty() && add_peer(self, theirs.front()))
              publish_view(self);
            rp.deliver(true);
          },
          [=](caf::error& err) mutable { rp.deliver(err); });
      return rp;
    },
    [=](beat_atom, const std::string& id) {
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
    },
    [=](bye_atom, const std::string& id) {
      auto& peers = self->state.peers;
      auto i = peers.find(id);
      if (i == peers.end())
        return;
      self->demonitor(i->second.info.membership);
      bool was_up = i->second.up;
      peers.erase(i);
      spdlog::info("cluster: node '{}' left", id);
      if (was_up)
        publish_view(self);
      else
        save_members(self);
    },
    [=](tick_atom) {
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
    },
    [=](ready_atom) {
      publish_view(self);
      self->send(self->state.opts.directory, msg::joining_atom::value, false);
      return true;
    },
    [=](status_atom) {
      std::vector<std::string> out{self->state.me.node_id + "|" + self->state.me.endpoint + "|1"};
      for (auto& [id, p] : self->state.peers)
        out.push_back(id + "|" + p.info.endpoint + "|" + (p.up ? "1" : "0"));
      return out;
    },
    [=](endpoint_atom, std::string& endpoint) { self->state.me.endpoint = std::move(endpoint); },
    [=](leave_atom) {
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
