#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raft_wire.hpp" // raft.h

// What a Raft server must keep across restarts (Raft §3.8: current term, vote,
// log) in one small file, rewritten whole and renamed into place on each
// change. The membership log holds one entry per view change, so rewriting
// it is cheap; snapshots are never taken.

namespace chat::cluster {

class raft_disk {
public:
  /// Opens (or creates) `<dir>/raft-state`; throws std::runtime_error naming
  /// the file when it cannot be read or is not a raft state file. An empty
  /// `dir`: memory only (a node without a data dir forgets everything anyway).
  explicit raft_disk(std::string dir);
  raft_disk(const raft_disk&) = delete;
  raft_disk& operator=(const raft_disk&) = delete;
  ~raft_disk();

  raft_id server_id() const { return id_; }
  /// Chooses the server id once, when the state is new (kept from then on).
  void set_server_id(raft_id id);
  /// Which Raft group this server belongs to: chosen by the bootstrapping
  /// server, taken by a new one from the first message it receives. 0: none yet.
  uint64_t group() const { return group_; }
  void set_group(uint64_t g);
  raft_term term() const { return term_; }
  raft_id vote() const { return vote_; }
  bool empty() const { return term_ == 0 && entries_.empty(); }
  size_t size() const { return entries_.size(); }

  void set_term(raft_term t);
  void set_vote(raft_id v);
  /// Copies the entries (raft keeps its own).
  void append(const raft_entry* entries, size_t n);
  /// Drops every entry from `index` (1-based) on.
  void truncate(raft_index index);
  /// A copy of the entries in one raft_malloc batch, as raft's load() wants.
  void load(raft_entry*& entries, size_t& n) const;

private:
  void save() const; // throws std::runtime_error; raft gets RAFT_IOERR
  void copy_in(const raft_entry* entries, size_t n); // each buf its own block

  std::string path_;
  uint64_t id_ = 0;
  uint64_t group_ = 0;
  uint64_t term_ = 0;
  uint64_t vote_ = 0;
  std::vector<raft_entry> entries_; // each buf its own raft_malloc block
};

} // namespace chat::cluster
