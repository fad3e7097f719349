#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "raft_disk.hpp"
#include "raft_wire.hpp"

// One server of a Raft group: canonical/raft 0.15 (Debian's libraft-dev) with
// this project's I/O. Raft decides; this class gives it a clock, a disk
// (raft_disk) and a network (the owner's `send`, which in a node is a CAF
// message to the peer's membership actor, so that it crosses the fault
// injector's links like all traffic between nodes). Not thread-safe: one owner
// (an actor) calls everything; callbacks run inside those calls, never later
// from another thread.

namespace chat::cluster {

struct raft_server_info {
  raft_id id = 0;
  std::string address; ///< opaque to raft: what the owner put there
  bool voter = false;
};

class raft_node {
public:
  using done_fn = std::function<void(int status)>; // 0 or a RAFT_* error

  struct settings {
    std::string dir;     ///< where raft-state lives
    std::string address; ///< this server's address as peers see it
    uint64_t seed = 0;   ///< the server id (when new) and election jitter
    unsigned election_timeout_ms = 1000;
    unsigned heartbeat_ms = 100;
    unsigned tick_ms = 50;
    std::function<void(raft_id to, raft_wire::bytes)> send;
    /// Each committed command, in log order, on every server.
    std::function<void(const std::string& command)> apply;
  };

  /// Opens the server's state in `s.dir` (throws std::runtime_error when it is
  /// unreadable); `start` runs it.
  explicit raft_node(settings s);
  raft_node(const raft_node&) = delete;
  raft_node& operator=(const raft_node&) = delete;
  ~raft_node();

  raft_id id() const { return raft_.id; }
  /// A new cluster of this server alone; false when the server has state
  /// (it was bootstrapped or joined before). Only before `start`.
  bool bootstrap();
  void start(uint64_t now_ms);
  /// The clock moved on (call at least every `tick_ms`).
  void advance(uint64_t now_ms);
  /// Bytes a peer's `send` produced; false when they are not a message.
  bool receive(const raft_wire::bytes& bytes);

  bool leader() const { return raft_.state == RAFT_LEADER; }
  /// A leader that committed an entry of its own term (a barrier it appends
  /// on election): only then is every earlier entry, a configuration change
  /// included, known committed, and a new change safe to start. raft 0.15
  /// appends no such entry itself (later versions do), and without it a
  /// leader could start a second change while one of an earlier term is
  /// still uncommitted (review of 2026-12-02).
  bool may_change() const { return leader() && barrier_term_ == raft_.current_term; }
  /// raft stopped (a disk error, a conflict it cannot resolve): the owner
  /// should open the server again from its disk.
  bool unavailable() const { return raft_.state == RAFT_UNAVAILABLE; }
  /// Messages dropped because they came from another Raft group (a first
  /// node restarted on a wiped data dir bootstraps a group of its own).
  uint64_t strangers() const { return strangers_; }
  /// The leader this server believes in, 0 when none.
  raft_id leader_id() const;

  /// Leader only (false otherwise, `done` then never runs): append `command`;
  /// `done` runs once it is committed (0) or failed.
  bool propose(const std::string& command, done_fn done);
  /// Leader only: add a server and make it a voter once it caught up (Raft
  /// dissertation §4.2.1: one server at a time).
  bool add_voter(raft_id id, const std::string& address, done_fn done);
  bool remove(raft_id id, done_fn done);

  /// The newest configuration this server holds (appended, maybe not yet
  /// committed: a server uses a configuration as soon as it is in its log,
  /// §4.1), and its log index.
  std::vector<raft_server_info> servers() const;
  raft_index configuration_index() const;
  raft_index commit_index() const { return raft_.commit_index; }
  /// The last entry `settings::apply` saw (0 after a restart, until the
  /// commit index is known again).
  raft_index last_applied() const { return raft_.last_applied; }
  raft_term term() const { return raft_.current_term; }

  // For the C callbacks (raft_node.cpp).
  void later(std::function<void()> f) { pending_.push_back(std::move(f)); }
  bool closing() const { return closing_; }

private:
  friend struct raft_io_glue;
  void flush(); // runs the I/O completions raft is waiting for

  settings settings_;
  raft_disk disk_;
  std::mt19937_64 rng_;
  uint64_t now_ = 0;
  uint64_t last_tick_ = 0;
  raft_io_tick_cb tick_cb_ = nullptr;
  raft_io_recv_cb recv_cb_ = nullptr;
  std::deque<std::function<void()>> pending_;
  void barrier_on_election();

  raft_term barrier_term_ = 0;
  bool barrier_pending_ = false;
  uint64_t strangers_ = 0;
  bool started_ = false;
  bool closed_ = false;
  bool closing_ = false;
  raft_io io_{};
  raft_fsm fsm_{};
  raft raft_{};
};

} // namespace chat::cluster
