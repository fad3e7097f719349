#include <doctest/doctest.h>

#include "chat/gateway/codec.hpp"

using namespace chat;
using namespace chat::gateway;

namespace {

command ok(std::string_view text) {
  auto r = parse_command(text);
  auto* err = std::get_if<command_error>(&r);
  REQUIRE_MESSAGE(err == nullptr, (err ? err->message : ""));
  return std::get<command>(std::move(r));
}

command_error bad(std::string_view text, std::string code = "bad_request") {
  auto r = parse_command(text);
  auto* err = std::get_if<command_error>(&r);
  REQUIRE_MESSAGE(err != nullptr, text);
  CHECK(actors::wire_name(err->code) == code);
  CHECK_FALSE(err->message.empty());
  return *err;
}

} // namespace

TEST_CASE("valid commands parse into their structs") {
  auto join = std::get<msg::cmd_join>(ok(R"({"type":"join","room":"r","since":17,"ref":"a"})"));
  CHECK(join.room == "r");
  CHECK(join.has_since);
  CHECK(join.since == 17);
  CHECK(join.ref == "\"a\"");
  CHECK_FALSE(std::get<msg::cmd_join>(ok(R"({"type":"join","room":"r"})")).has_since);
  auto send = std::get<msg::cmd_send>(
    ok(R"({"type":"send","room":"a.b:c-d_e","id":"c-1","body": {"x" : [1, 2]},"ref":5})"));
  CHECK(send.body == R"({"x":[1,2]})");
  CHECK(send.ref == "5");
  CHECK(std::get<msg::cmd_send>(ok(R"({"type":"send","room":"r","id":"i","body":null})")).body
        == "null");
  CHECK(std::get<msg::cmd_leave>(ok(R"({"type":"leave","room":"r"})")).room == "r");
  auto h =
    std::get<msg::cmd_history>(ok(R"({"type":"history","room":"r","before":100,"limit":5})"));
  CHECK(h.window.before == 100);
  CHECK(h.window.limit == 5);
  CHECK(std::get<msg::cmd_history>(ok(R"({"type":"history","room":"r"})")).window.limit == 50);
  CHECK(
    std::get<msg::cmd_history>(ok(R"({"type":"history","room":"r","after":0})")).window.after
    == uint64_t{0});
  CHECK(std::holds_alternative<cmd_ping>(ok(R"({"type":"ping"})")));
  CHECK(std::holds_alternative<msg::cmd_typing>(ok(R"({"type":"typing","room":"r"})")));
  // Unknown extra fields are ignored.
  CHECK(std::holds_alternative<cmd_ping>(ok(R"({"type":"ping","extra":{"a":[1]}})")));
}

TEST_CASE("not JSON, not an object, unknown type") {
  bad("");
  bad("hello");
  bad("{\"type\":\"ping\"");
  bad("[1,2]");
  bad("\"ping\"");
  bad("42");
  bad(R"({"type":"dance"})");
  bad(R"({"type":7})");
  bad(R"({"room":"r"})");
  bad(std::string(100, '[') + std::string(100, ']'));
}

TEST_CASE("missing and mistyped fields") {
  bad(R"({"type":"join"})");
  bad(R"({"type":"join","room":5})");
  bad(R"({"type":"join","room":"r","since":-1})");
  bad(R"({"type":"join","room":"r","since":"3"})");
  bad(R"({"type":"join","room":"r","since":1.5})");
  bad(R"({"type":"send","room":"r","body":1})");
  bad(R"({"type":"send","room":"r","id":"","body":1})");
  bad(R"({"type":"send","room":"r","id":7,"body":1})");
  bad(std::string(R"({"type":"send","room":"r","body":1,"id":")") + std::string(65, 'i')
      + "\"}");
  bad(R"({"type":"send","room":"r","id":"i"})");
  bad(R"({"type":"leave"})");
  bad(R"({"type":"typing","room":null})");
  bad(R"({"type":"history","room":"r","limit":0})");
  bad(R"({"type":"history","room":"r","limit":201})");
  bad(R"({"type":"history","room":"r","limit":-3})");
  bad(R"({"type":"history","room":"r","before":0})");
  bad(R"({"type":"history","room":"r","before":5,"after":1})");
}

TEST_CASE("room names: 1-128 bytes of [A-Za-z0-9._:-]") {
  bad(R"({"type":"join","room":""})");
  bad(R"({"type":"join","room":"a b"})");
  bad(R"({"type":"join","room":"a/b"})");
  bad(R"({"type":"join","room":"é"})");
  bad(R"({"type":"join","room":"a\u0000b"})");
  bad(std::string(R"({"type":"join","room":")") + std::string(129, 'r') + "\"}");
  ok(std::string(R"({"type":"join","room":")") + std::string(128, 'r') + "\"}");
  CHECK(valid_room_name("private:x"));
}

TEST_CASE("ref: string or integer, at most 64 bytes, echoed when readable") {
  auto e = bad(R"({"type":"join","ref":"abc"})");
  CHECK(e.ref == "\"abc\"");
  bad(R"({"type":"ping","ref":{"a":1}})");
  bad(R"({"type":"ping","ref":1.5})");
  bad(std::string(R"({"type":"ping","ref":")") + std::string(65, 'r') + "\"}");
  ok(std::string(R"({"type":"ping","ref":")") + std::string(64, 'r') + "\"}");
}

TEST_CASE("a body over 64 KiB is too_large, not bad_request") {
  std::string body(64 * 1024, 'x');
  bad(R"({"type":"send","room":"r","id":"i","body":")" + body + "\"}", "too_large");
  std::string fits(64 * 1024 - 2, 'x');
  ok(R"({"type":"send","room":"r","id":"i","body":")" + fits + "\"}");
}

TEST_CASE("auth carries a token string") {
  auto c = ok(R"({"type":"auth","token":"x.y.z","ref":1})");
  CHECK(std::get<cmd_auth>(c).token == "x.y.z");
  bad(R"({"type":"auth"})");
  bad(R"({"type":"auth","token":5})");
}

TEST_CASE("read, presence and signal") {
  auto read = std::get<msg::cmd_read>(ok(R"({"type":"read","room":"r","seq":42})"));
  CHECK(read.seq == 42);
  bad(R"({"type":"read","room":"r"})");
  bad(R"({"type":"read","room":"r","seq":-1})");
  bad(R"({"type":"read","room":"r","seq":"4"})");
  bad(R"({"type":"read","seq":4})");

  auto p = std::get<msg::cmd_presence>(ok(R"({"type":"presence","users":["bob","carol"]})"));
  CHECK(p.users == std::vector<std::string>{"bob", "carol"});
  CHECK(std::get<msg::cmd_presence>(ok(R"({"type":"presence","users":[]})")).users.empty());
  bad(R"({"type":"presence"})");
  bad(R"({"type":"presence","users":"bob"})");
  bad(R"({"type":"presence","users":[1]})");
  bad(R"({"type":"presence","users":["bad name"]})");
  std::string many = R"({"type":"presence","users":[)";
  for (int i = 0; i < 1001; ++i)
    many += (i ? ",\"u" : "\"u") + std::to_string(i) + "\"";
  bad(many + "]}");

  auto sig = std::get<msg::cmd_signal>(
    ok(R"({"type":"signal","room":"r","to":"bob","data":{"sdp":"v=0","type":"offer"}})"));
  CHECK(sig.to == "bob");
  CHECK(sig.data == R"({"sdp":"v=0","type":"offer"})");
  bad(R"({"type":"signal","room":"r","data":{}})");
  bad(R"({"type":"signal","room":"r","to":"b b","data":{}})");
  bad(R"({"type":"signal","room":"r","to":"bob"})");
  bad(R"({"type":"signal","room":"r","to":"bob","data":")" + std::string(65 * 1024, 'x')
        + "\"}",
      "too_large");
}

TEST_CASE("command_name names each command by its protocol type (the metrics' label)") {
  std::pair<std::string_view, std::string_view> frames[] = {
    {"join", R"({"type":"join","room":"r"})"},
    {"leave", R"({"type":"leave","room":"r"})"},
    {"send", R"({"type":"send","room":"r","id":"i","body":1})"},
    {"history", R"({"type":"history","room":"r"})"},
    {"typing", R"({"type":"typing","room":"r"})"},
    {"read", R"({"type":"read","room":"r","seq":1})"},
    {"presence", R"({"type":"presence","users":["bob"]})"},
    {"signal", R"({"type":"signal","room":"r","to":"bob","data":{}})"},
    {"ping", R"({"type":"ping"})"},
    {"auth", R"({"type":"auth","token":"x.y.z"})"},
  };
  static_assert(std::size(frames) == std::variant_size_v<command>);
  for (auto [type, text] : frames)
    CHECK(command_name(ok(text).index()) == type);
  CHECK(command_name(99) == "unknown");
}
