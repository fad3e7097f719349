#include "chat/actors/node.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "directory_actor.hpp"
#include "store_actor.hpp"

namespace chat::actors {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<msg::cmd_join>("chat::msg::cmd_join");
  cfg.add_message_type<msg::cmd_leave>("chat::msg::cmd_leave");
  cfg.add_message_type<msg::cmd_send>("chat::msg::cmd_send");
  cfg.add_message_type<msg::cmd_history>("chat::msg::cmd_history");
  cfg.add_message_type<msg::cmd_typing>("chat::msg::cmd_typing");
  cfg.add_error_category(caf::atom("chat"),
                         [](uint8_t code, caf::atom_value, const caf::message&) {
                           return "chat::" + to_string(static_cast<errc>(code));
                         });
}

node_handles spawn_node(caf::actor_system& sys, const node_options& opts,
                        std::unique_ptr<storage::store> db) {
  node_handles node;
  node.node_id = opts.node_id;
  node.store = spawn_store(sys, std::shared_ptr<storage::store>{std::move(db)});
  node.directory = spawn_directory(sys, opts.node_id, node.store, opts.room_idle);
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
}

void read_history(caf::actor_system& sys, const node_handles& node, msg::cmd_history cmd,
                  std::function<void(frame)> done) {
  sys.spawn([store = node.store, cmd = std::move(cmd),
             done = std::move(done)](caf::event_based_actor* self) {
    self
      ->request(store, caf::infinite,
                msg::store_read{cmd.room, cmd.before, cmd.after, cmd.has_after, cmd.limit})
      .then(
        [=](msg::message_list& xs) {
          done(history_event(cmd.ref, cmd.room, xs));
        },
        [=](caf::error& err) {
          spdlog::error("history of '{}': {}", cmd.room, self->system().render(err));
          done(error_event(cmd.ref, "internal", "history read failed"));
        });
  });
}

} // namespace chat::actors
