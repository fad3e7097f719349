#pragma once

// What chat-bench speaks to a server: chatd's protocol, or a reference peer's
// (Socket.IO 4 over Engine.IO v4 WebSocket framing; nchan pub/sub). The
// scenarios are written against this interface, so every system gets the same
// load from the same load generator.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace bench {

/// What an incoming frame is to a scenario.
enum class frame_event {
  other,     ///< nothing a scenario counts (member events, pings answered, ...)
  connected, ///< the protocol's own handshake is done (Socket.IO's namespace CONNECT)
  joined,    ///< the join was confirmed
  message,   ///< a chat message (for nchan also the publisher's confirmation)
  ack,       ///< a send was acknowledged
  error,     ///< a command failed
};

/// The body every benchmark message carries: send time (steady ns), sender
/// index and the sender's own counter (so order and loss are checked per sender).
struct bench_body {
  int64_t t = 0;
  int64_t s = 0;
  int64_t i = 0;
};

class wire {
public:
  virtual ~wire() = default;

  /// chat | socketio | nchan; nothing for an unknown name.
  static std::unique_ptr<wire> make(std::string_view name);

  virtual const char* name() const = 0;

  /// The upgrade target of `user`'s socket that will be a member of `room`
  /// (nchan's channel is part of the URL).
  virtual std::string target(const std::string& user, const std::string& room) const = 0;

  /// Sent right after the WebSocket handshake; empty: the socket is connected
  /// at once, else after the frame classified as `connected`.
  virtual std::string hello() const { return {}; }

  /// The join command; empty when the target already joined (the first
  /// frame after connecting then counts as joined).
  virtual std::string join(const std::string& room) const = 0;

  /// A send to `room` with idempotency key `id` and reference `ref` (> 0).
  virtual std::string send(const std::string& room, const std::string& id, uint64_t ref,
                           const bench_body& body) const = 0;

  /// Whether the publisher learns of a stored send by an ack (else: by
  /// receiving its own message, as an nchan pub/sub socket does).
  virtual bool acks() const { return true; }

  /// What `frame` is; `reply` receives a frame the protocol requires in
  /// answer (Engine.IO's pong), if any.
  virtual frame_event classify(std::string_view frame, std::string& reply) const = 0;
};

/// The benchmark body of a message frame (any protocol: the keys are found by
/// name); false when the frame has none.
bool read_body(std::string_view frame, bench_body& out);

} // namespace bench
