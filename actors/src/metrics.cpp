#include "chat/actors/metrics.hpp"

#include <algorithm>

#include "chat/runtime/prometheus.hpp"

namespace chat::actors {

namespace {

uint64_t get(const std::atomic<uint64_t>& x) {
  return x.load(std::memory_order_relaxed);
}

double seconds(const std::atomic<uint64_t>& us) {
  return static_cast<double>(get(us)) / 1e6;
}

} // namespace

std::string node_metrics::prometheus() const {
  runtime::prometheus_text out;
  out.counter("chat_room_messages_total", "Messages stored by the rooms homed on this node.",
              get(room_messages));
  out.counter("chat_deliveries_total",
              "Stored messages this node pushed to member connections (the fan-out).",
              get(deliveries));
  out
    .family("chat_relay_messages_total", "counter",
            "Stored messages sent by this node's rooms to the relays of nodes with members "
            "(one per node).")
    .sample("chat_relay_messages_total", {{"to", "local"}}, get(relay_messages_local))
    .sample("chat_relay_messages_total", {{"to", "remote"}}, get(relay_messages_remote));
  out.gauge("chat_presence_users", "Users whose presence this node holds.",
            get(presence_users));
  out.counter(
    "chat_room_activations_total",
    "Room actors this node started (each loads its log; a room passivates when idle).",
    get(activations));
  out.counter("chat_room_takeovers_total", "Rooms this node took over as their home (ADR 8).",
              get(takeovers));
  out.family("chat_room_takeover_seconds_sum", "counter", "Time those take-overs took.")
    .sample("chat_room_takeover_seconds_sum", {}, seconds(takeover_us_sum));
  out.gauge("chat_room_takeover_seconds_max", "The longest take-over so far.",
            seconds(takeover_us_max));
  out.counter("chat_replication_adopted_records_total",
              "Records a take-over took from another node's better log.", get(adopted_records));
  out.counter("chat_replication_catchup_parts_total",
              "Log parts (up to 1,000 records) written onto replicas by take-overs.",
              get(catchup_parts));
  out.counter("chat_replication_batches_total",
              "Appends every replica confirmed before the ack.", get(replicated_batches));
  out
    .family("chat_replication_seconds_sum", "counter",
            "Time from a local commit to the last replica's confirmation, summed.")
    .sample("chat_replication_seconds_sum", {}, seconds(replicate_us_sum));
  out.gauge("chat_replication_lag_seconds",
            "Replica lag in time: commit-to-all-replicas of the newest confirmed batch.",
            seconds(replicate_us_last));
  out.gauge("chat_replication_lag_records",
            "Replica lag in entries: records stored on this node as a home that not every "
            "replica has confirmed yet (acks wait for them).",
            get(replica_lag_records));
  out.counter("chat_replication_fenced_total",
              "Writes refused because a newer home took the room over (the room stepped down).",
              get(fenced));
  out.counter("chat_replication_failures_total",
              "Appends a replica did not confirm (behind or silent; the room stepped down).",
              get(replica_failures));
  out.counter("chat_cluster_view_changes_total", "Cluster views applied by this node.",
              get(view_changes));
  out.gauge("chat_cluster_nodes_up", "Nodes in this node's last view, itself included.",
            get(nodes_up));
  out.gauge("chat_cluster_members", "Members this node knows, down ones included.",
            get(members));
  {
    // Members by status as this node's failure detector sees them.
    auto up = get(nodes_up);
    auto all = std::max(get(members), up);
    out.family("chat_cluster_members_by_status", "gauge",
               "Members this node knows, by the status its failure detector gives them.");
    out.sample("chat_cluster_members_by_status", {{"status", "up"}}, up);
    out.sample("chat_cluster_members_by_status", {{"status", "down"}}, all - up);
  }
  out.counter("chat_outbox_dropped_total",
              "Ephemeral frames (typing, presence) dropped for a full outbound queue.",
              get(outbox_drops));
  out.counter("chat_slow_consumer_closes_total",
              "Connections closed because their outbound queue overflowed with a stored "
              "message (slow consumers; they rejoin with since and lose nothing).",
              get(slow_consumers));
  out.family("chat_mailbox_high_water", "gauge",
             "The longest mailbox seen per actor kind since the node started (sampled as "
             "each takes its main work).");
  for (size_t k = 0; k < mailbox_high.size(); ++k)
    out.sample("chat_mailbox_high_water", {{"kind", actor_kind_names[k]}},
               mailbox_high[k].load(std::memory_order_relaxed));
  out.gauge("chat_cluster_member_set",
            "The membership log index of the member set this node counts: the view number "
            "(equal on every node once a change reached them).",
            get(member_set));
  out.gauge("chat_cluster_short_copies",
            "0 once every member repaired after the cluster grew from fewer than R members; "
            "until then the fewest copies a room may have (take-overs then ask more "
            "members: a failure makes such rooms unavailable, never lost).",
            get(short_copies));
  out.gauge("chat_storage_failing",
            "1 while the store's writes fail (a full disk): sends are answered unavailable.",
            get(storage_failing));
  out.counter("chat_storage_write_failures_total", "Group commits that failed.",
              get(storage_failures));
  out.counter("chat_retention_removed_messages_total",
              "Messages removed by retention (--retention-messages, --retention-days).",
              get(trimmed_messages));
  out.counter("chat_dedupe_forgotten_ids_total",
              "Client ids past the dedupe window: a resend of one is a new message.",
              get(forgotten_ids));
  out.histogram(
    "chat_store_commit_seconds",
    "One group commit: its RocksDB write batch, with the fsync (--durability sync).",
    store_commit_us, 1e6);
  out.histogram("chat_store_batch_appends", "Room appends per group commit.",
                store_batch_appends);
  out.histogram("chat_send_ack_seconds",
                "A send, from its room receiving it to the ack (commit and every replica).",
                send_ack_us, 1e6);
  out.histogram("chat_delivery_seconds",
                "A stored message, from its room receiving it to its relay on a node pushing "
                "it to the node's members (once per node; wall clocks across nodes).",
                delivery_us, 1e6);
  return out.str();
}

} // namespace chat::actors
