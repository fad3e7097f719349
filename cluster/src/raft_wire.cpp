#include "raft_wire.hpp"

#include <cstring>

namespace chat::cluster::raft_wire {

void put_u64(bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

bool get_u64(const uint8_t*& p, const uint8_t* end, uint64_t& v) {
  if (end - p < 8)
    return false;
  v = 0;
  for (int i = 0; i < 8; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  p += 8;
  return true;
}

namespace {

void put_string(bytes& out, const std::string& s) {
  put_u64(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

bool get_string(const uint8_t*& p, const uint8_t* end, std::string& s) {
  uint64_t n = 0;
  if (!get_u64(p, end, n) || static_cast<uint64_t>(end - p) < n)
    return false;
  s.assign(reinterpret_cast<const char*>(p), n);
  p += n;
  return true;
}

// Each message field is a u64 on the wire (booleans and tribools too): the
// messages are small and rare (membership changes and heartbeats), so a plain
// layout beats a compact one.
template <class... Fields>
void put_all(bytes& out, const Fields&... fields) {
  (put_u64(out, static_cast<uint64_t>(fields)), ...);
}

template <class... Fields>
bool get_all(const uint8_t*& p, const uint8_t* end, Fields&... fields) {
  uint64_t v = 0;
  return ((get_u64(p, end, v) && (fields = static_cast<Fields>(v), true)) && ...);
}

} // namespace

void put_entries(bytes& out, const raft_entry* entries, size_t n) {
  put_u64(out, n);
  for (size_t i = 0; i < n; ++i) {
    put_all(out, entries[i].term, entries[i].type, entries[i].buf.len);
    auto* base = static_cast<const uint8_t*>(entries[i].buf.base);
    out.insert(out.end(), base, base + entries[i].buf.len);
  }
}

bool get_entries(const uint8_t*& p, const uint8_t* end, raft_entry*& entries, size_t& n) {
  entries = nullptr;
  uint64_t count = 0;
  if (!get_u64(p, end, count) || count > static_cast<uint64_t>(end - p))
    return false;
  n = count;
  if (n == 0)
    return true;
  // First pass: sizes, so that the payloads go into one batch (what raft frees).
  size_t total = 0;
  const uint8_t* q = p;
  for (size_t i = 0; i < n; ++i) {
    uint64_t term = 0, type = 0, len = 0;
    if (!get_all(q, end, term, type, len) || static_cast<uint64_t>(end - q) < len)
      return false;
    q += len;
    total += len;
  }
  auto* batch = static_cast<uint8_t*>(raft_malloc(total + 1));
  entries = static_cast<raft_entry*>(raft_calloc(n, sizeof(raft_entry)));
  uint8_t* cursor = batch;
  for (size_t i = 0; i < n; ++i) {
    uint64_t len = 0;
    get_all(p, end, entries[i].term, entries[i].type, len);
    std::memcpy(cursor, p, len);
    entries[i].buf = {cursor, len};
    entries[i].batch = batch;
    cursor += len;
    p += len;
  }
  return true;
}

void free_entries(raft_entry* entries, size_t n) {
  if (entries == nullptr)
    return;
  if (n > 0)
    raft_free(entries[0].batch);
  raft_free(entries);
}

std::optional<bytes> encode(const raft_message& m, raft_id from,
                            const std::string& from_address) {
  bytes out;
  put_all(out, m.type, from);
  put_string(out, from_address);
  switch (m.type) {
    case RAFT_IO_REQUEST_VOTE: {
      auto& v = m.request_vote;
      put_all(out, v.term, v.candidate_id, v.last_log_index, v.last_log_term, v.disrupt_leader,
              v.pre_vote);
      return out;
    }
    case RAFT_IO_REQUEST_VOTE_RESULT: {
      auto& v = m.request_vote_result;
      put_all(out, v.term, v.vote_granted, v.pre_vote);
      return out;
    }
    case RAFT_IO_APPEND_ENTRIES: {
      auto& v = m.append_entries;
      put_all(out, v.term, v.prev_log_index, v.prev_log_term, v.leader_commit);
      put_entries(out, v.entries, v.n_entries);
      return out;
    }
    case RAFT_IO_APPEND_ENTRIES_RESULT: {
      auto& v = m.append_entries_result;
      put_all(out, v.term, v.rejected, v.last_log_index);
      return out;
    }
    case RAFT_IO_TIMEOUT_NOW: {
      auto& v = m.timeout_now;
      put_all(out, v.term, v.last_log_index, v.last_log_term);
      return out;
    }
    default:
      return std::nullopt;
  }
}

std::optional<decoded> decode(const bytes& in) {
  decoded d;
  auto& m = d.msg;
  const uint8_t* p = in.data();
  const uint8_t* end = p + in.size();
  if (!get_all(p, end, m.type, m.server_id) || !get_string(p, end, d.from_address))
    return std::nullopt;
  bool ok = false;
  switch (m.type) {
    case RAFT_IO_REQUEST_VOTE: {
      auto& v = m.request_vote;
      ok = get_all(p, end, v.term, v.candidate_id, v.last_log_index, v.last_log_term,
                   v.disrupt_leader, v.pre_vote);
      break;
    }
    case RAFT_IO_REQUEST_VOTE_RESULT: {
      auto& v = m.request_vote_result;
      ok = get_all(p, end, v.term, v.vote_granted, v.pre_vote);
      break;
    }
    case RAFT_IO_APPEND_ENTRIES: {
      auto& v = m.append_entries;
      size_t n = 0;
      ok = get_all(p, end, v.term, v.prev_log_index, v.prev_log_term, v.leader_commit)
           && get_entries(p, end, v.entries, n);
      v.n_entries = static_cast<unsigned>(n);
      break;
    }
    case RAFT_IO_APPEND_ENTRIES_RESULT: {
      auto& v = m.append_entries_result;
      ok = get_all(p, end, v.term, v.rejected, v.last_log_index);
      break;
    }
    case RAFT_IO_TIMEOUT_NOW: {
      auto& v = m.timeout_now;
      ok = get_all(p, end, v.term, v.last_log_index, v.last_log_term);
      break;
    }
    default:
      break;
  }
  if (!ok || p != end || m.server_id == 0) {
    release(m);
    return std::nullopt;
  }
  return d;
}

void release(raft_message& m) {
  if (m.type == RAFT_IO_APPEND_ENTRIES) {
    free_entries(m.append_entries.entries, m.append_entries.n_entries);
    m.append_entries.entries = nullptr;
    m.append_entries.n_entries = 0;
  }
}

} // namespace chat::cluster::raft_wire
