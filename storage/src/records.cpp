#include "chat/storage/records.hpp"

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/vector.hpp>

#include <sstream>

namespace chat::storage {

namespace {

// The envelope in front of every record: what wrote it, and the oldest reader
// version that can still read it.
struct envelope {
  uint16_t version = format_version;
  uint16_t compat = compat_version;
  template <class Archive>
  void serialize(Archive& ar) {
    ar(version, compat);
  }
};

template <class Archive>
void save_vc(Archive& ar, const runtime::vector_clock& vc) {
  ar(vc.entries());
}

template <class Archive>
void load_vc(Archive& ar, runtime::vector_clock& vc) {
  std::vector<runtime::vector_clock::entry> xs;
  ar(xs);
  vc = runtime::vector_clock{std::move(xs)};
}

template <class Archive>
void save_ballot(Archive& ar, const ballot& b) {
  ar(b.n, b.node);
}

template <class Archive>
void load_ballot(Archive& ar, ballot& b) {
  ar(b.n, b.node);
}

template <class Fn>
std::string write(Fn&& fn) {
  std::ostringstream out;
  {
    // The archive must be destroyed before the stream is read: cereal flushes then.
    cereal::PortableBinaryOutputArchive ar{out};
    ar(envelope{});
    fn(ar);
  }
  return std::move(out).str();
}

template <class T, class Fn>
std::optional<T> read(std::string_view bytes, Fn&& fn) {
  try {
    std::istringstream in{std::string{bytes}};
    cereal::PortableBinaryInputArchive ar{in};
    envelope env;
    ar(env);
    if (env.compat > format_version)
      return std::nullopt;
    T x;
    fn(ar, x, env.version);
    return x;
  } catch (const cereal::Exception&) {
    return std::nullopt;
  }
}

} // namespace

std::string encode(const message_record& x) {
  return write([&](auto& ar) {
    ar(x.seq, x.id, x.from, x.ts, x.body);
    save_vc(ar, x.vc);
    save_ballot(ar, x.ballot);
  });
}

std::string encode(const room_meta& x) {
  return write([&](auto& ar) {
    ar(x.seq);
    save_vc(ar, x.vc);
    save_ballot(ar, x.last);
    save_ballot(ar, x.promised);
    save_ballot(ar, x.accepted);
    ar(x.commit);
    ar(x.trimmed);
  });
}

std::optional<message_record> decode_message(std::string_view bytes) {
  return read<message_record>(bytes, [](auto& ar, message_record& x, uint16_t version) {
    ar(x.seq, x.id, x.from, x.ts, x.body);
    load_vc(ar, x.vc);
    if (version >= 2)
      load_ballot(ar, x.ballot);
  });
}

std::optional<room_meta> decode_room_meta(std::string_view bytes) {
  return read<room_meta>(bytes, [](auto& ar, room_meta& x, uint16_t version) {
    ar(x.seq);
    load_vc(ar, x.vc);
    if (version >= 2) {
      load_ballot(ar, x.last);
      load_ballot(ar, x.promised);
      load_ballot(ar, x.accepted);
      ar(x.commit);
      if (version >= 3)
        ar(x.trimmed);
    } else {
      x.commit = x.seq; // a log written before replication: all of it stands
    }
  });
}

} // namespace chat::storage
