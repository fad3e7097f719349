#include <doctest/doctest.h>

#include "chat/gateway/http_query.hpp"

using namespace chat::gateway;

TEST_CASE("targets split into path and decoded parameters") {
  auto t = parse_target("/ws?user=al%20ice&x=1+2&flag&=v");
  REQUIRE(t);
  CHECK(t->path == "/ws");
  REQUIRE(t->param("user"));
  CHECK(*t->param("user") == "al ice");
  CHECK(*t->param("x") == "1 2");
  CHECK(t->param("flag")->empty());
  CHECK(t->param("missing") == nullptr);
  CHECK(parse_target("/api/rooms/a%3Ab/messages")->path == "/api/rooms/a:b/messages");
}

TEST_CASE("malformed targets are refused") {
  CHECK_FALSE(parse_target(""));
  CHECK_FALSE(parse_target("ws"));
  CHECK_FALSE(parse_target("/ws?user=%zz"));
  CHECK_FALSE(parse_target("/ws?user=%4"));
  CHECK_FALSE(parse_target("/ws?user=%"));
  std::string many = "/x?";
  for (int i = 0; i < 33; ++i)
    many += "k" + std::to_string(i) + "=v&";
  CHECK_FALSE(parse_target(many));
}

TEST_CASE("unsigned numbers") {
  CHECK(parse_uint("0") == 0u);
  CHECK(parse_uint("18446744073709551615") == UINT64_MAX);
  CHECK_FALSE(parse_uint("18446744073709551616"));
  CHECK_FALSE(parse_uint("-1"));
  CHECK_FALSE(parse_uint(""));
  CHECK_FALSE(parse_uint("12a"));
  CHECK_FALSE(parse_uint(" 1"));
}
