#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

// raft.h declares C functions without extern "C" of its own.
extern "C" {
#include <raft.h>
}

// canonical/raft's messages as bytes, so that they can travel between nodes in
// a CAF message (and through the fault injector's links like everything else).

namespace chat::cluster::raft_wire {

using bytes = std::vector<uint8_t>;

/// `msg` from server `from` (whose address is `from_address`). Snapshots are
/// never taken (raft_node disables them), so an InstallSnapshot is not
/// encodable: nullopt.
std::optional<bytes> encode(const raft_message& msg, raft_id from,
                            const std::string& from_address);

/// A decoded message and the sender's address; `msg.server_address` is left
/// null for the holder to point at `from_address` once the value stays put.
struct decoded {
  raft_message msg{};
  std::string from_address;
};

/// `bytes` as a message for raft's recv callback; nullopt when they are not
/// one (truncated, unknown type). An AppendEntries' entries are allocated with
/// raft_malloc in one batch: raft owns them once it received the message, and
/// `release` frees them when it never did.
std::optional<decoded> decode(const bytes& in);
void release(raft_message& msg);

/// Entries as bytes (the disk format uses the same layout) and back, into
/// one raft_malloc batch as raft's load() wants them.
void put_entries(bytes& out, const raft_entry* entries, size_t n);
bool get_entries(const uint8_t*& p, const uint8_t* end, raft_entry*& entries, size_t& n);
void free_entries(raft_entry* entries, size_t n);

void put_u64(bytes& out, uint64_t v);
bool get_u64(const uint8_t*& p, const uint8_t* end, uint64_t& v);

} // namespace chat::cluster::raft_wire
