#include "chat/actors/events.hpp"

#include <charconv>

namespace chat::actors {

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (u < 0x20) {
          out += "\\u00";
          out += hex[u >> 4];
          out += hex[u & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

json_writer::json_writer() {
  buf_.reserve(256);
  buf_.assign(frame::header_room, '\0');
  buf_ += '{';
}

void json_writer::comma() {
  if (need_comma_)
    buf_ += ',';
}

json_writer& json_writer::key(std::string_view k) {
  comma();
  append_json_string(buf_, k);
  buf_ += ':';
  need_comma_ = false;
  return *this;
}

json_writer& json_writer::str(std::string_view v) {
  comma();
  append_json_string(buf_, v);
  need_comma_ = true;
  return *this;
}

template <class T>
static void append_number(std::string& buf, T v) {
  char tmp[24];
  auto [end, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
  (void)ec;
  buf.append(tmp, end);
}

json_writer& json_writer::num(uint64_t v) {
  comma();
  append_number(buf_, v);
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::num(int64_t v) {
  comma();
  append_number(buf_, v);
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::boolean(bool v) {
  return raw(v ? "true" : "false");
}

json_writer& json_writer::raw(std::string_view json) {
  comma();
  buf_ += json;
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::begin_object() {
  comma();
  buf_ += '{';
  need_comma_ = false;
  return *this;
}

json_writer& json_writer::end_object() {
  buf_ += '}';
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::begin_array() {
  comma();
  buf_ += '[';
  need_comma_ = false;
  return *this;
}

json_writer& json_writer::end_array() {
  buf_ += ']';
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::ref(std::string_view ref) {
  if (!ref.empty())
    key("ref").raw(ref);
  return *this;
}

frame json_writer::finish() {
  buf_ += '}';
  return frame::finish(std::move(buf_));
}

void write_message_object(json_writer& w, std::string_view room,
                          const storage::message_record& m) {
  w.key("type").str("message").key("room").str(room).key("seq").num(m.seq);
  w.key("id").str(m.id).key("from").str(m.from).key("ts").num(m.ts);
  w.key("body").raw(m.body).key("vc").begin_object();
  for (auto& [node, counter] : m.vc.entries())
    w.key(node).num(counter);
  w.end_object();
}

frame message_event(std::string_view room, const storage::message_record& m) {
  json_writer w;
  write_message_object(w, room, m);
  return w.finish();
}

frame ack_event(std::string_view ref, std::string_view room, std::string_view id, uint64_t seq,
                bool dup) {
  json_writer w;
  w.key("type").str("ack").ref(ref).key("id").str(id).key("room").str(room);
  w.key("seq").num(seq).key("dup").boolean(dup);
  return w.finish();
}

frame joined_event(std::string_view ref, std::string_view room, uint64_t seq,
                   std::string_view members, std::string_view receipts) {
  json_writer w;
  w.key("type").str("joined").ref(ref).key("room").str(room).key("seq").num(seq);
  w.key("members").begin_array().raw(members).end_array();
  w.key("receipts").begin_object().raw(receipts).end_object();
  return w.finish();
}

frame trimmed_event(std::string_view room, uint64_t first_seq) {
  json_writer w;
  w.key("type").str("trimmed").key("room").str(room).key("first_seq").num(first_seq);
  return w.finish();
}

frame read_event(std::string_view room, std::string_view user, uint64_t seq) {
  json_writer w;
  w.key("type").str("read").key("room").str(room).key("user").str(user).key("seq").num(seq);
  return w.finish();
}

frame signal_event(std::string_view room, std::string_view from, std::string_view data) {
  json_writer w;
  w.key("type").str("signal").key("room").str(room).key("from").str(from);
  w.key("data").raw(data);
  return w.finish();
}

frame presence_event(std::string_view user, bool online, int64_t last_seen) {
  json_writer w;
  w.key("type").str("presence").key("user").str(user);
  w.key("status").str(online ? "online" : "offline").key("last_seen").num(last_seen);
  return w.finish();
}

frame presence_state_event(std::string_view ref,
                           const std::vector<std::tuple<std::string, bool, int64_t>>& users) {
  json_writer w;
  w.key("type").str("presence_state").ref(ref).key("users").begin_object();
  for (auto& [user, online, seen] : users)
    w.key(user).str(online ? "online" : "offline");
  // Additive to the contract: when each user was last seen (0 = never).
  w.end_object().key("last_seen").begin_object();
  for (auto& [user, online, seen] : users)
    w.key(user).num(seen);
  w.end_object();
  return w.finish();
}

frame member_event(std::string_view room, std::string_view user, std::string_view event) {
  json_writer w;
  w.key("type").str("member").key("room").str(room).key("user").str(user);
  w.key("event").str(event);
  return w.finish();
}

frame members_event(std::string_view room, const std::vector<std::string_view>& joined,
                    const std::vector<std::string_view>& left) {
  json_writer w;
  w.key("type").str("members").key("room").str(room);
  w.key("joined").begin_array();
  for (auto u : joined)
    w.str(u);
  w.end_array().key("left").begin_array();
  for (auto u : left)
    w.str(u);
  w.end_array();
  return w.finish();
}

frame typing_event(std::string_view room, std::string_view user) {
  json_writer w;
  w.key("type").str("typing").key("room").str(room).key("user").str(user);
  return w.finish();
}

frame history_event(std::string_view ref, std::string_view room,
                    const std::vector<storage::message_record>& msgs) {
  json_writer w;
  w.key("type").str("history").ref(ref).key("room").str(room);
  w.key("messages").begin_array();
  for (auto& m : msgs) {
    w.begin_object();
    write_message_object(w, room, m);
    w.end_object();
  }
  w.end_array();
  return w.finish();
}

frame ok_event(std::string_view ref) {
  json_writer w;
  w.key("type").str("ok").ref(ref);
  return w.finish();
}

frame pong_event(std::string_view ref) {
  json_writer w;
  w.key("type").str("pong").ref(ref);
  return w.finish();
}

namespace {
frame write_error(std::string_view ref, wire_error code, std::string_view message,
                  const int64_t* retry_after_ms) {
  json_writer w;
  w.key("type").str("error").ref(ref).key("code").str(wire_name(code));
  w.key("message").str(message);
  if (retry_after_ms != nullptr)
    w.key("retry_after_ms").num(*retry_after_ms);
  auto f = w.finish();
  f.set_error(code);
  return f;
}
} // namespace

frame error_event(std::string_view ref, wire_error code, std::string_view message) {
  return write_error(ref, code, message, nullptr);
}

frame error_event(std::string_view ref, wire_error code, std::string_view message,
                  int64_t retry_after_ms) {
  return write_error(ref, code, message, &retry_after_ms);
}

} // namespace chat::actors
