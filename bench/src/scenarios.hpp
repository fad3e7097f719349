#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct options {
  std::string host = "127.0.0.1";
  /// What the server speaks: chat (chatd), socketio or nchan (the reference peers).
  std::string protocol = "chat";
  uint16_t port = 8080;
  /// Several nodes: sockets go round robin over these ports (overrides port).
  std::vector<uint16_t> ports;
  /// fanout: subscribers of the one room.
  int subscribers = 1000;
  /// fanout: messages the publisher sends.
  int messages = 2000;
  /// Unacknowledged sends a publisher keeps in flight.
  int window = 64;
  /// durable: publishing connections (one room each).
  int publishers = 50;
  /// durable: how long to publish.
  double seconds = 10;
  /// durable: upper bound on messages, whatever the duration.
  int max_messages = 2'000'000;
  /// Spread client sockets over 127.0.0.2 .. 127.0.0.(1+N); 0 = kernel's choice.
  int source_ips = 0;
  /// Give up (and count losses) this long after the last send.
  double drain_seconds = 20;
  /// presence: watching connections, users each watches, flapping users, and
  /// how often each flapping user toggles between connected and not.
  int watchers = 5000;
  int watch_each = 50;
  int flappers = 500;
  int flap_period_ms = 1000;
  /// rooms / cluster: rooms, members per room, messages per second per member.
  int rooms = 2000;
  int members = 5;
  double rate = 1;
  /// rooms / cluster: list each 100 ms of sends whose slowest delivery took
  /// longer than this (ms); 0 = off.
  double stalls_over_ms = 0;
  /// idle: sockets held open, and the server processes whose memory is read.
  int connections = 10000;
  std::vector<int> server_pids;
};

/// Each scenario prints one JSON line and a human summary; returns the exit code.
int run_fanout(const options& opts);
int run_durable(const options& opts);
int run_presence(const options& opts);
/// rooms, and over several nodes (ports) the cluster scenario.
int run_rooms(const options& opts);
int run_idle(const options& opts);

} // namespace bench
