#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

// What the membership log records about how many copies the rooms have (ADR 8).
//
// A take-over asks members − R + 1 of the members: that meets every R of them,
// but not fewer. A room written while the cluster had fewer than R voters has
// as many copies as there were voters, and nothing copies an idle room when
// members join; had its nodes died, a take-over could miss every copy. So the
// leader records "short K" (K: the voters then) before it adds a voter to a
// cluster of fewer than R, and each member records "repaired" once it put the
// rooms it stores back onto the copies the cluster now has. Until every voter
// did, a take-over counts with K copies (a larger quorum: safe, less available);
// then the leader records "complete", and members that join later owe nothing.
//
// Commands are applied in log order on every member (the Raft log's state
// machine), so every member that applied the same prefix holds the same ledger.

namespace chat::cluster {

class copies_ledger {
public:
  /// The command the leader appends before adding a voter to `voters` voters
  /// (fewer than R), under the configuration at log index `configuration`.
  static std::string short_command(uint32_t voters, uint64_t configuration);
  /// The command that says `node` repaired its rooms after short number `generation`.
  static std::string repaired_command(const std::string& node, uint64_t generation);
  /// The command that says every voter repaired after short number `generation`.
  static std::string complete_command(uint64_t generation);

  /// Applies one committed command; false for one this ledger does not know
  /// (ignored: a newer member's command, or damage).
  bool apply(const std::string& command);
  /// Forgets everything: the log is applied again from its start.
  void reset() { *this = copies_ledger{}; }

  /// The fewest copies a room may have while some of `voters` has not yet
  /// repaired; nothing once every one has (every room has min(R, members)).
  [[nodiscard]] std::optional<uint32_t> short_copies(const std::set<std::string>& voters) const;
  /// Whether `node` has rooms to repair for the last "short".
  [[nodiscard]] bool owes(const std::string& node) const;
  /// Whether a "short" was recorded under the configuration at `configuration`
  /// (or a later one): the leader then adds voters without recording another.
  [[nodiscard]] bool recorded_since(uint64_t configuration) const {
    return generation_ != 0 && !complete_ && configuration_ >= configuration;
  }
  /// Whether a member of a cluster of `voters` voters can repair for the last
  /// "short": only once the voter it was recorded for is added (with R >= 3 a
  /// repair among the voters before would place the rooms on too few nodes).
  [[nodiscard]] bool may_repair(size_t voters) const { return voters > voters_; }
  /// The leader's cue for "complete": every one of `voters` repaired since the
  /// last "short", and that is not yet recorded.
  [[nodiscard]] bool completes(const std::set<std::string>& voters) const;
  [[nodiscard]] uint64_t generation() const { return generation_; }
  [[nodiscard]] uint32_t least() const { return least_; }
  [[nodiscard]] bool complete() const { return complete_; }
  [[nodiscard]] const std::set<std::string>& repaired() const { return repaired_; }

private:
  [[nodiscard]] bool all_repaired(const std::set<std::string>& voters) const;

  uint64_t generation_ = 0;    ///< "short" commands applied
  uint64_t configuration_ = 0; ///< the configuration the last one was appended under
  /// The fewest voters of any "short": a member that never repaired since an
  /// older one still holds rooms with that few copies (the repair after a newer
  /// one repairs those too, so this is only ever too cautious). 0 once complete.
  uint32_t least_ = 0;
  uint32_t voters_ = 0;            ///< the voters the last "short" was recorded for
  bool complete_ = false;          ///< every voter repaired since the last "short"
  std::set<std::string> repaired_; ///< members that repaired since the last "short"
};

} // namespace chat::cluster
