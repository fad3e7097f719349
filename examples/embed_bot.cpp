// Embedding the runtime: a service starts a node in-process (no gateway, no
// sockets), and a bot joins a room and posts through the same connection-actor
// API the WebSocket gateway uses. Run: build/bin/embed_bot [DATA_DIR]
//
// docs/embedding.md quotes this file.

#include <condition_variable>
#include <filesystem>
#include <iostream>
#include <mutex>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/send.hpp>

#include "chat/actors/node.hpp"
#include "chat/storage/store.hpp"

int main(int argc, char** argv) {
  auto dir = argc > 1 ? std::string{argv[1]}
                      : (std::filesystem::temp_directory_path() / "embed-bot-data").string();

  // 1. Open the node's store and start its actors.
  std::string error;
  auto db = chat::storage::store::open({dir, true}, error);
  if (!db) {
    std::cerr << "embed_bot: " << error << '\n';
    return 2;
  }
  caf::actor_system_config cfg;
  chat::actors::register_types(cfg);
  caf::actor_system sys{cfg};
  auto node = chat::actors::spawn_node(sys, {}, std::move(db));

  // 2. A member needs an outbox: here the bot prints every event it receives.
  //    The waker runs on an actor thread; it sets a flag under the mutex so that
  //    a wake-up between take() and wait() is not lost.
  std::mutex mtx;
  std::condition_variable cv;
  bool woken = false;
  int acks = 0;
  auto out = std::make_shared<chat::actors::outbox>(1 << 20);
  out->set_waker([&] {
    std::lock_guard<std::mutex> guard{mtx};
    woken = true;
    cv.notify_all();
  });
  auto bot = chat::actors::spawn_connection(sys, node, "echo-bot", out);

  // 3. Join and post, exactly as a WebSocket client would.
  caf::anon_send(bot, chat::msg::cmd_join{"", "lobby", false, 0});
  for (int i = 1; i <= 3; ++i)
    caf::anon_send(bot, chat::msg::cmd_send{"", "lobby", "bot-" + std::to_string(i),
                                            "{\"text\":\"hello #" + std::to_string(i) + "\"}"});

  // 4. Drain the outbox until the three sends are acknowledged (durably stored).
  for (;;) {
    std::vector<chat::actors::frame> frames;
    out->take(frames);
    for (auto& f : frames) {
      std::cout << f.json() << '\n';
      if (f.json().find("\"type\":\"ack\"") != std::string_view::npos)
        ++acks;
      out->release(f.size());
    }
    if (acks == 3)
      break;
    std::unique_lock<std::mutex> lock{mtx};
    if (!cv.wait_for(lock, std::chrono::seconds(10), [&] {
          return woken;
        })) {
      std::cerr << "embed_bot: no reply within 10 s\n";
      return 1;
    }
    woken = false;
  }

  // 5. Leave, then stop the node (flushes the store).
  caf::anon_send(bot, chat::msg::closed_atom::value);
  chat::actors::stop_node(sys, node);
  return 0;
}
