// chat-bench: bounded load scenarios against a chatd on loopback.
//   chat-bench fanout  --port 8080 --subscribers 1000 --messages 2000
//   chat-bench durable --port 8080 --publishers 50 --seconds 10
//   chat-bench presence --port 8080 --watchers 5000 --flappers 500 --seconds 10
//   chat-bench rooms --port 8080 --rooms 2000 --members 5 --rate 1 --seconds 10
//   chat-bench idle --port 8080 --connections 10000 --seconds 10 --server-pids 1234
//   chat-bench cluster --ports 8081,8082,8083 --rooms 2000 --members 5 --seconds 10

#include <CLI/CLI.hpp>

#include <arpa/inet.h>

#include <iostream>

#include "scenarios.hpp"

int main(int argc, char** argv) {
  bench::options o;
  CLI::App app{"chat-bench: load scenarios for chatd (loopback only)", "chat-bench"};
  app.require_subcommand(1);
  app.add_option("--host", o.host, "chatd address (must be in 127.0.0.0/8)");
  app.add_option("--port", o.port, "the server's HTTP port");
  app
    .add_option("--protocol", o.protocol,
                "chat | socketio | nchan (fanout, rooms, cluster, idle)")
    ->check(CLI::IsMember({"chat", "socketio", "nchan"}));
  app.add_option("--ports", o.ports, "several nodes' HTTP ports (sockets round robin)")
    ->delimiter(',');
  app.add_option("--window", o.window, "unacked sends in flight per publisher")
    ->check(CLI::Range(1, 10000));
  app.add_option("--source-ips", o.source_ips, "spread sockets over 127.0.0.2..N+1")
    ->check(CLI::Range(0, 250));
  app.add_option("--drain-seconds", o.drain_seconds, "wait this long for stragglers")
    ->check(CLI::Range(1.0, 600.0));
  auto* fanout = app.add_subcommand("fanout", "1 room, S subscribers, 1 publisher, M messages");
  fanout->add_option("--subscribers,-S", o.subscribers)->check(CLI::Range(1, 100000));
  fanout->add_option("--messages,-M", o.messages)->check(CLI::Range(1, 10000000));
  auto* durable = app.add_subcommand("durable", "acked sends/s, one room per publisher");
  durable->add_option("--publishers,-P", o.publishers)->check(CLI::Range(1, 10000));
  durable->add_option("--seconds,-T", o.seconds)->check(CLI::Range(0.1, 3600.0));
  durable->add_option("--max-messages", o.max_messages)->check(CLI::Range(1, 100000000));
  auto* presence = app.add_subcommand(
    "presence", "W watchers x N watched users each, F users flapping; T seconds");
  presence->add_option("--watchers,-W", o.watchers)->check(CLI::Range(1, 50000));
  presence->add_option("--watch-each", o.watch_each)->check(CLI::Range(1, 1000));
  presence->add_option("--flappers,-F", o.flappers)->check(CLI::Range(1, 10000));
  presence->add_option("--flap-period-ms", o.flap_period_ms)->check(CLI::Range(50, 600000));
  presence->add_option("--seconds,-T", o.seconds)->check(CLI::Range(0.1, 3600.0));
  auto* idle = app.add_subcommand("idle", "C idle sockets (K per room) held T s; server RSS");
  idle->add_option("--connections,-C", o.connections)->check(CLI::Range(1, 200000));
  idle->add_option("--members,-K", o.members, "sockets per room")->check(CLI::Range(1, 10000));
  idle->add_option("--seconds,-T", o.seconds)->check(CLI::Range(0.1, 3600.0));
  idle->add_option("--server-pids", o.server_pids, "the server's processes (VmRSS summed)")
    ->delimiter(',')
    ->required();
  std::vector<CLI::App*> room_scenarios{
    app.add_subcommand("rooms", "R rooms x K members, each sending r msg/s for T s"),
    app.add_subcommand("cluster", "the rooms scenario over several nodes (--ports)")};
  for (auto* sc : room_scenarios) {
    sc->add_option("--rooms,-R", o.rooms)->check(CLI::Range(1, 100000));
    sc->add_option("--members,-K", o.members)->check(CLI::Range(1, 10000));
    sc->add_option("--rate,-r", o.rate, "messages per second per member")
      ->check(CLI::Range(0.001, 100000.0));
    sc->add_option("--seconds,-T", o.seconds)->check(CLI::Range(0.1, 3600.0));
    sc->add_option("--stalls-over", o.stalls_over_ms,
                   "list each 100 ms of sends whose slowest delivery took longer (ms)")
      ->check(CLI::Range(0.001, 600000.0));
  }
  CLI11_PARSE(app, argc, argv);
  if (static_cast<int64_t>(o.rooms) * o.members > 200000) {
    std::cerr << "chat-bench: --rooms x --members is at most 200000 sockets\n";
    return 2;
  }
  if (room_scenarios[1]->parsed() && o.ports.size() < 2) {
    std::cerr << "chat-bench: cluster needs the nodes' ports: --ports P1,P2,...\n";
    return 2;
  }
  in_addr addr{};
  if (inet_pton(AF_INET, o.host.c_str(), &addr) != 1 || (ntohl(addr.s_addr) >> 24) != 127) {
    std::cerr << "chat-bench: --host must be a loopback address (127.0.0.0/8)\n";
    return 2;
  }
  if (o.protocol != "chat" && (durable->parsed() || presence->parsed())) {
    std::cerr << "chat-bench: durable and presence speak only chatd's protocol\n";
    return 2;
  }
  if (fanout->parsed())
    return bench::run_fanout(o);
  if (presence->parsed())
    return bench::run_presence(o);
  if (idle->parsed())
    return bench::run_idle(o);
  if (room_scenarios[0]->parsed() || room_scenarios[1]->parsed())
    return bench::run_rooms(o);
  return bench::run_durable(o);
}
