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
  auto seconds = [](const std::atomic<uint64_t>& us) {
    return std::to_string(static_cast<double>(us.load(std::memory_order_relaxed)) / 1e6);
  };
  auto metric = [&](const char* name, const char* type, const char* help, std::string value) {
    out += std::string{"# HELP "} + name + " " + help + "\n";
    out += std::string{"# TYPE "} + name + " " + type + "\n";
    out += std::string{name} + " " + value + "\n";
  };
  metric("chat_room_takeovers_total", "counter",
         "Rooms this node took over as their home (ADR 8).", get(takeovers));
  metric("chat_room_takeover_seconds_sum", "counter", "Time those take-overs took.",
         seconds(takeover_us_sum));
  metric("chat_room_takeover_seconds_max", "gauge", "The longest take-over so far.",
         seconds(takeover_us_max));
  metric("chat_replication_adopted_records_total", "counter",
         "Records a take-over took from another node's better log.", get(adopted_records));
  metric("chat_replication_catchup_parts_total", "counter",
         "Log parts (up to 1,000 records) written onto replicas by take-overs.",
         get(catchup_parts));
  metric("chat_replication_batches_total", "counter",
         "Appends every replica confirmed before the ack.", get(replicated_batches));
  metric("chat_replication_seconds_sum", "counter",
         "Time from a local commit to the last replica's confirmation, summed.",
         seconds(replicate_us_sum));
  metric("chat_replication_lag_seconds", "gauge",
         "Replica lag in time: commit-to-all-replicas of the newest confirmed batch.",
         seconds(replicate_us_last));
  metric("chat_replication_lag_records", "gauge",
         "Replica lag in entries: records stored on this node as a home that not every "
         "replica has confirmed yet (acks wait for them).",
         get(replica_lag_records));
  metric("chat_replication_fenced_total", "counter",
         "Writes refused because a newer home took the room over (the room stepped down).",
         get(fenced));
  metric("chat_replication_failures_total", "counter",
         "Appends a replica did not confirm (behind or silent; the room stepped down).",
         get(replica_failures));
  metric("chat_cluster_view_changes_total", "counter", "Cluster views applied by this node.",
         get(view_changes));
  metric("chat_cluster_nodes_up", "gauge", "Nodes in this node's last view, itself included.",
         get(nodes_up));
  metric("chat_cluster_members", "gauge", "Members this node knows, down ones included.",
         get(members));
  metric("chat_storage_failing", "gauge",
         "1 while the store's writes fail (a full disk): sends are answered unavailable.",
         get(storage_failing));
  metric("chat_storage_write_failures_total", "counter", "Group commits that failed.",
         get(storage_failures));
  metric("chat_retention_removed_messages_total", "counter",
         "Messages removed by retention (--retention-messages, --retention-days).",
         get(trimmed_messages));
  metric("chat_dedupe_forgotten_ids_total", "counter",
         "Client ids past the dedupe window: a resend of one is a new message.",
         get(forgotten_ids));
  return out;
}

} // namespace chat::actors
