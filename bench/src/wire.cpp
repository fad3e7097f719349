#include "wire.hpp"

#include "harness.hpp"

namespace bench {

namespace {

std::string body_json(const bench_body& b) {
  return R"({"t":)" + std::to_string(b.t) + R"(,"s":)" + std::to_string(b.s) + R"(,"i":)"
         + std::to_string(b.i) + "}";
}

/// chatd's protocol (../shared/PROTOCOL.md).
class chat_wire : public wire {
public:
  const char* name() const override { return "chat"; }
  std::string target(const std::string& user, const std::string&) const override {
    return "/ws?user=" + user;
  }
  std::string join(const std::string& room) const override {
    return R"({"type":"join","room":")" + room + R"("})";
  }
  std::string send(const std::string& room, const std::string& id, uint64_t ref,
                   const bench_body& b) const override {
    return R"({"type":"send","room":")" + room + R"(","id":")" + id + R"(","ref":)"
           + std::to_string(ref) + R"(,"body":)" + body_json(b) + "}";
  }
  frame_event classify(std::string_view f, std::string&) const override {
    if (is_type(f, "message"))
      return frame_event::message;
    if (is_type(f, "ack"))
      return frame_event::ack;
    if (is_type(f, "joined"))
      return frame_event::joined;
    if (is_type(f, "error"))
      return frame_event::error;
    return frame_event::other;
  }
};

/// Socket.IO 4 (protocol 5) over an Engine.IO v4 WebSocket: "40" connects the
/// default namespace, "42[...]" is an event, "42<id>[...]" one that asks for an
/// ack, answered by "43<id>[...]"; the server's ping "2" needs the pong "3".
/// The join asks for ack id 0, sends for their ref (> 0).
class socketio_wire : public wire {
public:
  const char* name() const override { return "socketio"; }
  std::string target(const std::string& user, const std::string&) const override {
    return "/socket.io/?EIO=4&transport=websocket&user=" + user;
  }
  std::string hello() const override { return "40"; }
  std::string join(const std::string& room) const override {
    return R"(420["join",")" + room + R"("])";
  }
  std::string send(const std::string& room, const std::string& id, uint64_t ref,
                   const bench_body& b) const override {
    return "42" + std::to_string(ref) + R"(["send",{"room":")" + room + R"(","id":")" + id
           + R"(","body":)" + body_json(b) + "}]";
  }
  frame_event classify(std::string_view f, std::string& reply) const override {
    if (f.rfind(R"(42["message")", 0) == 0)
      return frame_event::message;
    if (f.rfind("430[", 0) == 0)
      return frame_event::joined;
    if (f.rfind("43", 0) == 0)
      return f.find(R"("error")") == std::string_view::npos ? frame_event::ack
                                                            : frame_event::error;
    if (f == "2") {
      reply = "3";
      return frame_event::other;
    }
    if (f.rfind("40", 0) == 0)
      return frame_event::connected;
    if (f.rfind("44", 0) == 0)
      return frame_event::error; // CONNECT_ERROR
    return frame_event::other;
  }
};

/// nchan's pub/sub location (bench/peers/nchan/nginx.conf): a WebSocket on
/// /pubsub/<room> is subscribed to the room's channel, and every text frame it
/// sends is published there, to every subscriber including itself. There is
/// no ack: a publisher knows a send was taken when its own message comes back.
class nchan_wire : public wire {
public:
  const char* name() const override { return "nchan"; }
  std::string target(const std::string&, const std::string& room) const override {
    return "/pubsub/" + room;
  }
  std::string join(const std::string&) const override { return {}; }
  std::string send(const std::string&, const std::string&, uint64_t,
                   const bench_body& b) const override {
    return body_json(b);
  }
  bool acks() const override { return false; }
  frame_event classify(std::string_view f, std::string&) const override {
    return f.rfind(R"({"t":)", 0) == 0 ? frame_event::message : frame_event::other;
  }
};

} // namespace

std::unique_ptr<wire> wire::make(std::string_view name) {
  if (name == "chat")
    return std::make_unique<chat_wire>();
  if (name == "socketio")
    return std::make_unique<socketio_wire>();
  if (name == "nchan")
    return std::make_unique<nchan_wire>();
  return nullptr;
}

bool read_body(std::string_view f, bench_body& out) {
  // chatd re-serializes the body with its keys sorted; nchan passes it as the
  // whole frame. Only the body has keys "t", "s" and "i".
  auto b = f.find(R"("body":)");
  auto body = b == std::string_view::npos ? f : f.substr(b);
  return number_after(body, R"("t":)", out.t) && number_after(body, R"("s":)", out.s)
         && number_after(body, R"("i":)", out.i);
}

} // namespace bench
