#include "raft_disk.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "raft_wire.hpp"

namespace chat::cluster {

namespace {

constexpr char magic[] = "chat-raft-2\n";

std::runtime_error failure(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

void write_durably(const std::string& path, const raft_wire::bytes& data) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw failure("cannot create", tmp);
  size_t done = 0;
  while (done < data.size()) {
    auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      ::close(fd);
      throw failure("cannot write", tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    ::close(fd);
    throw failure("cannot sync", tmp);
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    throw failure("cannot rename into", path);
  // The rename itself must survive a crash: sync the directory.
  auto dir = path.substr(0, path.find_last_of('/'));
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

} // namespace

raft_disk::raft_disk(std::string dir) : path_(dir.empty() ? "" : dir + "/raft-state") {
  if (path_.empty())
    return; // in memory only
  std::ifstream in(path_, std::ios::binary);
  if (!in)
    return; // a new server
  raft_wire::bytes data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const uint8_t* p = data.data();
  const uint8_t* end = p + data.size();
  auto magic_len = sizeof(magic) - 1;
  raft_entry* loaded = nullptr;
  size_t n = 0;
  bool ok = data.size() >= magic_len && std::memcmp(p, magic, magic_len) == 0;
  p += ok ? magic_len : 0;
  ok = ok && raft_wire::get_u64(p, end, id_) && raft_wire::get_u64(p, end, group_)
       && raft_wire::get_u64(p, end, term_) && raft_wire::get_u64(p, end, vote_)
       && raft_wire::get_entries(p, end, loaded, n) && p == end;
  if (!ok) {
    raft_wire::free_entries(loaded, n);
    throw std::runtime_error("not a raft state file (or damaged): " + path_);
  }
  copy_in(loaded, n);
  raft_wire::free_entries(loaded, n);
}

raft_disk::~raft_disk() {
  for (auto& e : entries_)
    raft_free(e.buf.base);
}

void raft_disk::save() const {
  if (path_.empty())
    return;
  raft_wire::bytes out(magic, magic + sizeof(magic) - 1);
  raft_wire::put_u64(out, id_);
  raft_wire::put_u64(out, group_);
  raft_wire::put_u64(out, term_);
  raft_wire::put_u64(out, vote_);
  raft_wire::put_entries(out, entries_.data(), entries_.size());
  write_durably(path_, out);
}

void raft_disk::set_server_id(raft_id id) {
  id_ = id;
  save();
}

void raft_disk::set_group(uint64_t g) {
  group_ = g;
  save();
}

void raft_disk::set_term(raft_term t) {
  term_ = t;
  vote_ = 0;
  save();
}

void raft_disk::set_vote(raft_id v) {
  vote_ = v;
  save();
}

void raft_disk::copy_in(const raft_entry* entries, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    raft_entry e = entries[i];
    e.buf.base = raft_malloc(e.buf.len + 1);
    std::memcpy(e.buf.base, entries[i].buf.base, e.buf.len);
    e.batch = nullptr;
    entries_.push_back(e);
  }
}

void raft_disk::append(const raft_entry* entries, size_t n) {
  copy_in(entries, n);
  save();
}

void raft_disk::truncate(raft_index index) {
  while (entries_.size() >= index && !entries_.empty()) {
    raft_free(entries_.back().buf.base);
    entries_.pop_back();
  }
  save();
}

void raft_disk::load(raft_entry*& entries, size_t& n) const {
  raft_wire::bytes flat;
  raft_wire::put_entries(flat, entries_.data(), entries_.size());
  const uint8_t* p = flat.data();
  raft_wire::get_entries(p, p + flat.size(), entries, n);
}

} // namespace chat::cluster
