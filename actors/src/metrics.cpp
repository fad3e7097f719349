#include "chat/actors/metrics.hpp"

namespace chat::actors {

std::string node_metrics::prometheus() const {
  auto get = [](const std::atomic<uint64_t>& x) {
    return std::to_string(x.load(std::memory_order_relaxed));
  };
  std::string out;
  out += "# HELP chat_room_messages_total Messages stored by the rooms homed on this node.\n";
  out += "# TYPE chat_room_messages_total counter\n";
  out += "chat_room_messages_total " + get(room_messages) + "\n";
  out += "# HELP chat_relay_messages_total Stored messages sent by this node's rooms to the "
         "relays of nodes with members (one per node).\n";
  out += "# TYPE chat_relay_messages_total counter\n";
  out += "chat_relay_messages_total{to=\"local\"} " + get(relay_messages_local) + "\n";
  out += "chat_relay_messages_total{to=\"remote\"} " + get(relay_messages_remote) + "\n";
  out += "# HELP chat_presence_users Users whose presence this node holds.\n";
  out += "# TYPE chat_presence_users gauge\n";
  out += "chat_presence_users " + get(presence_users) + "\n";
  return out;
}

} // namespace chat::actors
