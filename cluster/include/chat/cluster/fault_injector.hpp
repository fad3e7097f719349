#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "chat/runtime/endpoint.hpp"

namespace chat::cluster {

/// What a node dials instead of a peer's cluster endpoint (`cluster_options::dial`).
using dial_fn = std::function<runtime::endpoint(const runtime::endpoint&)>;

/// Faults between the nodes of a cluster, for tests (ADR 9): every connection a
/// node opens to a peer goes through a link of this injector, a loopback TCP
/// relay that reads CAF's frames and can hold, delay or drop them.
///
/// Nothing here is active unless a node's `cluster_options::dial` routes
/// through `dialer(node)`; `chatd` does that only with `--fault-injection`.
/// Each call takes effect before it returns. A schedule drawn from `random`
/// replays from the seed; thread timing does not (the run is real).
class fault_injector {
public:
  explicit fault_injector(uint64_t seed);
  ~fault_injector();
  fault_injector(const fault_injector&) = delete;
  fault_injector& operator=(const fault_injector&) = delete;

  [[nodiscard]] uint64_t seed() const;

  /// Names the node listening for the cluster at `ep`: faults name nodes.
  void name(const std::string& node, const runtime::endpoint& ep);

  /// The dial hook of node `from`: a peer's endpoint -> `from`'s link to it.
  /// Peers are told apart by the endpoint text: name them as they are dialled.
  [[nodiscard]] dial_fn dialer(std::string from);

  /// Frames between `a` and `b` are held (a cut cable: TCP stays open, the
  /// middleman's own timeout closes it), new connections between them refused.
  void partition(const std::string& a, const std::string& b);
  /// `node` is partitioned from every other node.
  void isolate(const std::string& node);
  /// Lifts every partition and isolation (held frames flow again, in order)
  /// and stops drops and delays. Crashed nodes stay crashed.
  void heal();
  /// Each message between actors (not a handshake or heartbeat of the
  /// middleman) is lost with this probability, 0..1.
  void drop(double probability);
  /// Each frame waits a uniform time in [min, max]; order is kept per link.
  void delay(std::chrono::milliseconds min, std::chrono::milliseconds max);
  /// As the kernel does when a process dies: every connection of `node` is
  /// closed at once and new ones are refused until `revive(node)`. Behind a
  /// partition or isolation the peers do not see the close (the FIN is lost
  /// too): they find out by their own timeout, as after a power loss.
  void crash(const std::string& node);
  void revive(const std::string& node);

  /// A uniform integer in [lo, hi] from the schedule's generator (seeded;
  /// frames draw from another, so traffic does not change the schedule).
  [[nodiscard]] uint64_t random(uint64_t lo, uint64_t hi);

  struct counters {
    uint64_t connections = 0; ///< accepted by a link
    uint64_t refused = 0;     ///< closed at once: crashed or partitioned
    uint64_t frames = 0;      ///< passed on
    uint64_t dropped = 0;
    uint64_t cut = 0;      ///< connections closed by `crash`
    uint64_t raw = 0;      ///< links whose bytes were not CAF's framing (relayed as is)
    uint64_t bypassed = 0; ///< dials to a host a link cannot relay to (dialled directly)
  };
  [[nodiscard]] counters stats() const;

private:
  struct impl;
  // Shared with the dial hooks, which an actor system may call after the
  // injector is gone (a node still winding down): they then dial nothing.
  std::shared_ptr<impl> impl_;
};

} // namespace chat::cluster
