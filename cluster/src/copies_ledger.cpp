#include "copies_ledger.hpp"

#include <algorithm>
#include <sstream>

namespace chat::cluster {

std::string copies_ledger::short_command(uint32_t voters, uint64_t configuration) {
  return "short " + std::to_string(voters) + " " + std::to_string(configuration);
}

std::string copies_ledger::repaired_command(const std::string& node, uint64_t generation) {
  return "repaired " + node + " " + std::to_string(generation);
}

std::string copies_ledger::complete_command(uint64_t generation) {
  return "complete " + std::to_string(generation);
}

bool copies_ledger::apply(const std::string& command) {
  std::istringstream in{command};
  std::string verb;
  in >> verb;
  if (verb == "short") {
    uint32_t voters = 0;
    uint64_t configuration = 0;
    if (!(in >> voters >> configuration) || voters == 0)
      return false;
    ++generation_;
    configuration_ = configuration;
    least_ = least_ == 0 ? voters : std::min(least_, voters);
    voters_ = voters;
    repaired_.clear();
    complete_ = false;
    return true;
  }
  if (verb == "repaired") {
    std::string node;
    uint64_t generation = 0;
    if (!(in >> node >> generation))
      return false;
    // A repair that began before a newer "short" does not cover its rooms.
    if (generation == generation_ && generation_ != 0)
      repaired_.insert(node);
    return true;
  }
  if (verb == "complete") {
    uint64_t generation = 0;
    if (!(in >> generation))
      return false;
    if (generation == generation_ && generation_ != 0) {
      complete_ = true;
      least_ = 0;
    }
    return true;
  }
  return false;
}

// Every voter of a configuration at or after the "short" repaired: the rooms
// with fewer copies are stored on the voters of the configuration it was
// appended under, and those are still voters unless removed (a removed member
// handed its rooms over, or lost its data with them).
std::optional<uint32_t> copies_ledger::short_copies(const std::set<std::string>& voters) const {
  if (generation_ == 0 || complete_ || all_repaired(voters))
    return std::nullopt;
  return least_;
}

bool copies_ledger::completes(const std::set<std::string>& voters) const {
  return generation_ != 0 && !complete_ && all_repaired(voters);
}

bool copies_ledger::owes(const std::string& node) const {
  return generation_ != 0 && !complete_ && repaired_.count(node) == 0;
}

bool copies_ledger::all_repaired(const std::set<std::string>& voters) const {
  return !voters.empty() && std::all_of(voters.begin(), voters.end(), [&](auto& id) {
    return repaired_.count(id) != 0;
  });
}

} // namespace chat::cluster
