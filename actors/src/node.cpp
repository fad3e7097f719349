#include "chat/actors/node.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/actors/timeouts.hpp"
#include "directory_actor.hpp"
#include "error_frame.hpp"
#include "inspector.hpp"
#include "store_actor.hpp"
#include "store_messages.hpp"

namespace chat::actors {

namespace {
template <class... Ts>
void register_all(caf::actor_system_config& cfg, msg::type_list<Ts...>) {
  (cfg.add_message_type<Ts>(msg::wire_name<Ts>::value), ...);
}
} // namespace

void register_types(caf::actor_system_config& cfg) {
  register_all(cfg, msg::actor_commands{});
  register_all(cfg, msg::node_types{});
  cfg.add_error_category(caf::atom("chat"),
                         [](uint8_t code, caf::atom_value, const caf::message& ctx) {
                           auto text = "chat::" + to_string(static_cast<errc>(code));
                           if (ctx.match_elements<std::string>())
                             text += ": " + ctx.get_as<std::string>(0);
                           return text;
                         });
}

node_handles spawn_node(caf::actor_system& sys, const node_options& opts,
                        std::unique_ptr<storage::store> db) {
  node_handles node;
  node.node_id = opts.node_id;
  node.replication = opts.replication;
  auto store = spawn_store(sys, std::shared_ptr<storage::store>{std::move(db)}, node.metrics,
                           opts.trim_interval);
  node.store = caf::actor_cast<caf::actor>(store);
  directory_options dir;
  dir.node_id = opts.node_id;
  dir.metrics = node.metrics;
  dir.room_idle = opts.room_idle;
  dir.replication = opts.replication;
  dir.presence.tracker.ttl_ms = opts.presence_ttl.count();
  dir.presence.tracker.coalesce_ms = opts.presence_coalesce.count();
  dir.presence.idle = opts.room_idle;
  node.inspector = spawn_inspector(sys, opts.node_id, node.connections);
  dir.inspector = node.inspector;
  node.directory = caf::actor_cast<caf::actor>(spawn_directory(sys, std::move(dir), store));
  caf::anon_send(node.inspector, msg::actors_atom::value, node.directory, node.store);
  caf::anon_send(store, msg::trim_atom::value, node.directory);
  return node;
}

void stop_node(caf::actor_system& sys, const node_handles& node) {
  caf::scoped_actor self{sys};
  // Rooms first (so that no new appends start), then the store's final flush.
  for (auto& target : {node.directory, node.store}) {
    self->request(target, caf::infinite, msg::shutdown_atom::value)
      .receive([](bool) {},
               [&](caf::error& err) {
                 spdlog::error("shutdown: {}", sys.render(err));
               });
    self->send_exit(target, caf::exit_reason::user_shutdown);
  }
  self->send_exit(node.inspector, caf::exit_reason::user_shutdown);
}

namespace {

// node_handles keeps the directory untyped for embedders and tests; within the
// module it is asked through its interface.
msg::directory_actor directory_of(const node_handles& node) {
  return caf::actor_cast<msg::directory_actor>(node.directory);
}

struct publish_request {
  msg::directory_actor directory;
  std::string room;
  std::string from;
  std::string id;
  std::string body;
  std::function<void(frame)> done;
};

// A room may passivate between the lookup and the post: then look it up again.
void publish_attempt(caf::event_based_actor* self, std::shared_ptr<publish_request> req,
                     int attempt) {
  self->request(req->directory, cross_node_timeout, msg::resolve_room{req->room})
    .then(
      [=](msg::room_actor& room) {
        self->request(room, cross_node_timeout, msg::room_post{req->from, req->id, req->body})
          .then(
            [=](msg::post_result& res) {
              req->done(ack_event("", req->room, req->id, res.seq, res.dup));
            },
            [=](caf::error& err) {
              if (err == caf::sec::request_receiver_down && attempt < 3)
                return publish_attempt(self, req, attempt + 1);
              req->done(error_frame("", err, self->system()));
            });
      },
      [=](caf::error& err) {
        req->done(error_frame("", err, self->system()));
      });
}

} // namespace

void publish(caf::actor_system& sys, const node_handles& node, std::string room,
             std::string from, std::string id, std::string body,
             std::function<void(frame)> done) {
  auto req = std::make_shared<publish_request>(
    publish_request{directory_of(node), std::move(room), std::move(from), std::move(id),
                    std::move(body), std::move(done)});
  sys.spawn([req](caf::event_based_actor* self) {
    publish_attempt(self, req, 1);
  });
}

void read_history(caf::actor_system& sys, const node_handles& node, msg::cmd_history cmd,
                  std::function<void(frame)> done) {
  sys.spawn([dir = directory_of(node), cmd = std::move(cmd),
             done = std::move(done)](caf::event_based_actor* self) {
    self->request(dir, cross_node_timeout, msg::read_history{cmd.room, cmd.window, cmd.ref})
      .then(
        [=](frame& f) {
          done(f);
        },
        // A room that is being taken over answers `unavailable` (503 on
        // REST, with Retry-After), a storage failure `internal`.
        [=](caf::error& err) {
          done(error_frame(cmd.ref, err, self->system()));
        });
  });
}

namespace {

// Asks the directory something it answers with a frame (the admin API's
// requests), off the caller's thread.
template <class Request>
void ask_for_frame(caf::actor_system& sys, const node_handles& node, Request req,
                   std::function<void(frame)> done) {
  sys.spawn([dir = directory_of(node), req = std::move(req),
             done = std::move(done)](caf::event_based_actor* self) {
    self->request(dir, cross_node_timeout, req)
      .then(
        [=](frame& f) {
          done(f);
        },
        [=](caf::error& err) {
          done(error_frame("", err, self->system()));
        });
  });
}

} // namespace

void inspect_room(caf::actor_system& sys, const node_handles& node, std::string room,
                  std::function<void(frame)> done) {
  ask_for_frame(sys, node, msg::inspect_room{std::move(room)}, std::move(done));
}

void stop_room(caf::actor_system& sys, const node_handles& node, std::string room,
               std::function<void(frame)> done) {
  ask_for_frame(sys, node, msg::stop_room{std::move(room)}, std::move(done));
}

namespace {

// The page is the first `limit` names (one more: there is a next page, which
// starts after this one's last name); a room whose summary did not come (it
// stopped meanwhile) is left out of the page but still counts for `next`.
frame room_page(msg::room_list& xs, uint32_t limit) {
  limit = std::max<uint32_t>(limit, 1);
  auto more = xs.names.size() > limit;
  auto last = more ? xs.names[limit - 1] : std::string{};
  json_writer w;
  w.key("rooms").begin_array();
  for (auto& r : xs.rooms) {
    if (more && r.room > last)
      break;
    w.begin_object().key("room").str(r.room).key("home").str(r.home);
    w.key("seq").num(r.seq).key("members").num(uint64_t{r.members});
    w.end_object();
  }
  w.end_array().key("next");
  if (more)
    w.str(last);
  else
    w.raw("null");
  return w.finish();
}

} // namespace

void list_nodes(caf::actor_system& sys, const node_handles& node,
                std::function<void(frame)> done) {
  sys.spawn([dir = directory_of(node), done = std::move(done)](caf::event_based_actor* self) {
    self->request(dir, cross_node_timeout, msg::nodes_atom::value)
      .then(
        [=](frame& f) {
          done(std::move(f));
        },
        [=](caf::error& err) {
          done(error_frame("", err, self->system()));
        });
  });
}

void repair_rooms(caf::actor_system& sys, const node_handles& node,
                  std::function<void(frame)> done) {
  sys.spawn([dir = directory_of(node), done = std::move(done)](caf::event_based_actor* self) {
    self->request(dir, cross_node_timeout, msg::repair_atom::value, msg::nodes_atom::value)
      .then(
        [=](frame& f) {
          done(std::move(f));
        },
        [=](caf::error& err) {
          done(error_frame("", err, self->system()));
        });
  });
}

void remove_member(caf::actor_system& sys, const node_handles& node, std::string id,
                   std::function<void(frame)> done) {
  // Long: every node up repairs the rooms it stores first.
  constexpr auto removal_timeout = std::chrono::seconds(600);
  sys.spawn([dir = directory_of(node), id = std::move(id),
             done = std::move(done)](caf::event_based_actor* self) {
    self->request(dir, removal_timeout, msg::remove_atom::value, id)
      .then(
        [=](frame& f) {
          done(std::move(f));
        },
        [=](caf::error& err) {
          done(error_frame("", err, self->system(), true));
        });
  });
}

void announce_http(const node_handles& node, std::string url) {
  caf::anon_send(directory_of(node), msg::http_atom::value, std::move(url));
}

namespace {

// Asks the node's inspector something it answers with a frame.
void ask_inspector(caf::actor_system& sys, const node_handles& node, caf::message req,
                   std::function<void(frame)> done) {
  sys.spawn([to = node.inspector, req = std::move(req),
             done = std::move(done)](caf::event_based_actor* self) {
    self->request(to, cross_node_timeout, req)
      .then(
        [=](frame& f) {
          done(std::move(f));
        },
        [=](caf::error& err) {
          done(error_frame("", err, self->system()));
        });
  });
}

} // namespace

void list_connections(caf::actor_system& sys, const node_handles& node, std::string user,
                      std::string on_node, std::string cursor, uint32_t limit,
                      std::function<void(frame)> done) {
  ask_inspector(sys, node,
                caf::make_message(msg::conns_atom::value, std::move(user), std::move(on_node),
                                  std::move(cursor), limit),
                std::move(done));
}

void inspect_connection(caf::actor_system& sys, const node_handles& node, std::string id,
                        std::function<void(frame)> done) {
  ask_inspector(sys, node, caf::make_message(msg::conn_atom::value, std::move(id)),
                std::move(done));
}

void close_connection(caf::actor_system& sys, const node_handles& node, std::string id,
                      std::function<void(frame)> done) {
  ask_inspector(sys, node, caf::make_message(msg::kick_atom::value, std::move(id)),
                std::move(done));
}

void inspect_actors(caf::actor_system& sys, const node_handles& node, std::string on_node,
                    std::function<void(frame)> done) {
  ask_inspector(sys, node, caf::make_message(msg::actors_atom::value, std::move(on_node)),
                std::move(done));
}

void inspect_presence(caf::actor_system& sys, const node_handles& node, std::string user,
                      std::function<void(frame)> done) {
  sys.spawn([dir = directory_of(node), user = std::move(user),
             done = std::move(done)](caf::event_based_actor* self) {
    auto failed = [=](caf::error& err) {
      done(error_frame("", err, self->system()));
    };
    self->request(dir, cross_node_timeout, msg::resolve_user{user})
      .then(
        [=](msg::presence_shard_actor& shard) {
          self->request(shard, cross_node_timeout, msg::inspect_atom::value, user)
            .then(
              [=](frame& f) {
                done(std::move(f));
              },
              failed);
        },
        failed);
  });
}

void list_rooms(caf::actor_system& sys, const node_handles& node, std::string prefix,
                std::string cursor, uint32_t limit, std::function<void(frame)> done) {
  sys.spawn([dir = directory_of(node),
             req = msg::list_rooms{std::move(prefix), std::move(cursor), limit, 0},
             done = std::move(done)](caf::event_based_actor* self) {
    self->request(dir, cross_node_timeout, req)
      .then(
        [=](msg::room_list& xs) {
          done(room_page(xs, req.limit));
        },
        [=](caf::error& err) {
          done(error_frame("", err, self->system()));
        });
  });
}

} // namespace chat::actors

namespace chat::actors {

namespace {

std::string room_presence_json(const std::string& room, std::vector<std::string> online) {
  std::sort(online.begin(), online.end());
  json_writer w;
  w.key("room").str(room).key("online").begin_array();
  for (auto& u : online)
    w.str(u);
  w.end_array();
  return std::string{w.finish().json()};
}

} // namespace

void room_presence(caf::actor_system& sys, const node_handles& node, std::string room,
                   std::function<void(std::string)> done) {
  sys.spawn([dir = directory_of(node), room = std::move(room),
             done = std::move(done)](caf::event_based_actor* self) {
    auto empty = [=]() {
      done(room_presence_json(room, {}));
    };
    auto failed = [=](caf::error&) {
      empty();
    };
    // An inactive room has no members: no activation just to answer this.
    self->request(dir, cross_node_timeout, msg::find_room{room})
      .then(
        [=](msg::room_actor& r) {
          if (!r)
            return empty();
          self->request(r, cross_node_timeout, msg::members_atom::value)
            .then(
              [=](std::vector<std::string>& users) {
                if (users.empty())
                  return empty();
                struct gather {
                  size_t pending;
                  std::vector<std::string> online;
                };
                auto acc = std::make_shared<gather>(gather{users.size(), {}});
                auto one_done = [=](const msg::presence_info* info) {
                  if (info != nullptr && info->online)
                    acc->online.push_back(info->user);
                  if (--acc->pending == 0)
                    done(room_presence_json(room, std::move(acc->online)));
                };
                for (auto& u : users)
                  self->request(dir, cross_node_timeout, msg::resolve_user{u})
                    .then(
                      [=](msg::presence_shard_actor& p) {
                        self->request(p, cross_node_timeout, msg::presence_query{u})
                          .then(
                            [=](msg::presence_info& i) {
                              one_done(&i);
                            },
                            [=](caf::error&) {
                              one_done(nullptr);
                            });
                      },
                      [=](caf::error&) {
                        one_done(nullptr);
                      });
              },
              failed);
        },
        failed);
  });
}

} // namespace chat::actors
