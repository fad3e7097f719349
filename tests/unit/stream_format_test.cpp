#include <doctest/doctest.h>

#include "chat/actors/events.hpp"
#include "chat/gateway/stream_format.hpp"

using namespace chat;
using namespace chat::gateway;

namespace {

stream_request parse(std::string_view target_text, std::optional<std::string_view> last = {}) {
  auto t = parse_target(target_text);
  REQUIRE(t);
  auto r = parse_stream_request(*t, last);
  if (auto* why = std::get_if<std::string>(&r))
    FAIL("refused: " << *why);
  return std::get<stream_request>(r);
}

std::string refusal(std::string_view target_text, std::optional<std::string_view> last = {}) {
  auto t = parse_target(target_text);
  REQUIRE(t);
  auto r = parse_stream_request(*t, last);
  REQUIRE_MESSAGE(std::holds_alternative<std::string>(r), target_text);
  return std::get<std::string>(r);
}

} // namespace

TEST_CASE("stream requests: rooms, since, Last-Event-ID") {
  auto r = parse("/sse?rooms=a,private:b,a&since=private:b:40");
  REQUIRE(r.rooms == std::vector<std::string>{"a", "private:b"});
  CHECK_FALSE(r.since[0]);
  CHECK(r.since[1] == 40u);

  // Last-Event-ID wins over since and restores rooms joined later.
  r = parse("/sse?rooms=a&since=a:3", std::string_view{"a:7,c:2"});
  REQUIRE(r.rooms == std::vector<std::string>{"a", "c"});
  CHECK(r.since[0] == 7u);
  CHECK(r.since[1] == 2u);

  CHECK(parse("/sse").rooms.empty());
  CHECK(parse("/sse?rooms=").rooms.empty());
}

TEST_CASE("stream requests: bad input is refused with a reason") {
  CHECK(refusal("/sse?rooms=a,,b").find("not a valid room name") != std::string::npos);
  CHECK(refusal("/sse?rooms=a%20b").find("not a valid room name") != std::string::npos);
  CHECK(refusal("/sse?rooms=a&since=b:1").find("not in rooms=") != std::string::npos);
  CHECK(refusal("/sse?rooms=a&since=a").find("not room:seq") != std::string::npos);
  CHECK(refusal("/sse?rooms=a&since=a:-1").find("non-negative") != std::string::npos);
  CHECK(refusal("/sse?rooms=a&since=a:99999999999999999999999").find("non-negative")
        != std::string::npos);
  CHECK(refusal("/sse?rooms=a", std::string_view{"garbage"}).find("Last-Event-ID")
        != std::string::npos);
  CHECK(refusal("/sse?rooms=a", std::string_view{"a:1,"}).find("Last-Event-ID")
        != std::string::npos);
  std::string many = "/sse?rooms=";
  for (int i = 0; i <= static_cast<int>(max_stream_rooms); ++i)
    many += (i ? ",r" : "r") + std::to_string(i);
  CHECK(refusal(many).find("more than") != std::string::npos);
}

TEST_CASE("poll cursors round-trip; anything else is refused") {
  poll_cursor c{"0123456789abcdef0123456789abcdef", 42};
  auto text = format_cursor(c);
  auto back = parse_cursor(text);
  REQUIRE(back);
  CHECK(back->stream == c.stream);
  CHECK(back->count == 42u);
  CHECK_FALSE(parse_cursor(""));
  CHECK_FALSE(parse_cursor("0123456789abcdef0123456789abcdef"));
  CHECK_FALSE(parse_cursor("0123456789abcdef0123456789abcdef."));
  CHECK_FALSE(parse_cursor("0123456789ABCDEF0123456789abcdef.1"));
  CHECK_FALSE(parse_cursor("0123456789abcdef0123456789abcde.1"));
  CHECK_FALSE(parse_cursor("0123456789abcdef0123456789abcdef.-1"));
  CHECK_FALSE(parse_cursor("0123456789abcdef0123456789abcdef.1x"));
  CHECK_FALSE(parse_cursor(std::string(5000, 'a')));
}

TEST_CASE("event meta is read from the encoders' own output") {
  storage::message_record m;
  m.seq = 57;
  m.id = "c-1";
  m.from = "alice";
  m.body = R"({"room":"fake","seq":1})";
  auto msg = actors::message_event("room:x", m);
  auto meta = read_event_meta(msg.json());
  CHECK(meta.type == "message");
  CHECK(meta.room == "room:x");
  CHECK(meta.seq == 57u);

  auto joined = actors::joined_event(R"("x,\"room\":\"evil\"")", "r", 9, R"("alice")", "");
  meta = read_event_meta(joined.json());
  CHECK(meta.type == "joined");
  CHECK(meta.room == "r");
  CHECK(meta.seq == 9u);

  auto typing = actors::typing_event("r", "bob"); // the meta views into it
  meta = read_event_meta(typing.json());
  CHECK(meta.type == "typing");
  CHECK(meta.room.empty());

  // Truncated or foreign text yields nothing (found by the streams fuzz target).
  for (auto text :
       {"", "{", R"({"type":"message")", R"({"type":"joined","ref":1)",
        R"({"type":"message","room":"r","seq":)", R"({"type":"message","room":"r)"}) {
    CAPTURE(text);
    CHECK(read_event_meta(text).room.empty());
  }
}

TEST_CASE("SSE event text and ids") {
  std::string out;
  append_sse_event(out, "a:3,b:1", "message", R"({"type":"message"})");
  append_sse_event(out, "", "typing", R"({"type":"typing"})");
  CHECK(out
        == "id: a:3,b:1\nevent: message\ndata: {\"type\":\"message\"}\n\n"
           "event: typing\ndata: {\"type\":\"typing\"}\n\n");
  CHECK(sse_event_id("b", 4, {{"a", 3}, {"b", 4}, {"c", 0}}) == "b:4,a:3,c:0");
  CHECK(poll_reply_body({R"({"a":1})", R"({"b":2})"}, "c.1", "s")
        == R"({"events":[{"a":1},{"b":2}],"cursor":"c.1","session":"s"})");
}
