#include <doctest/doctest.h>

#include "chat/gateway/auth.hpp"

using namespace chat::gateway;

TEST_CASE("rooms claim: exact names and prefixes; private rooms need a claim") {
  identity anon;
  CHECK(anon.may_access("lobby"));
  CHECK_FALSE(anon.may_access("private:x"));
  identity scoped;
  scoped.has_rooms = true;
  scoped.rooms = {"team-*", "lobby", "private:ops", "*-open"};
  CHECK(scoped.may_access("team-"));
  CHECK(scoped.may_access("team-red"));
  CHECK(scoped.may_access("lobby"));
  CHECK(scoped.may_access("private:ops"));
  CHECK_FALSE(scoped.may_access("lobby2"));
  CHECK_FALSE(scoped.may_access("team"));
  CHECK_FALSE(scoped.may_access("private:opsx"));
  CHECK_FALSE(scoped.may_access("x-open")); // '*' only as a trailing prefix marker
  identity all;
  all.has_rooms = true;
  all.rooms = {"*"};
  CHECK(all.may_access("private:anything"));
  identity none;
  none.has_rooms = true;
  CHECK_FALSE(none.may_access("lobby"));
}

TEST_CASE("bearer header parsing") {
  CHECK(bearer_token("Bearer abc") == std::string_view{"abc"});
  CHECK(bearer_token("bearer  abc") == std::string_view{"abc"});
  CHECK_FALSE(bearer_token("Basic abc"));
  CHECK_FALSE(bearer_token("Bearer"));
  CHECK_FALSE(bearer_token(""));
}

TEST_CASE("configuration errors") {
  std::string err;
  auto refused = [&](auth_options o) {
    return authenticator::make(std::move(o), err) == nullptr;
  };
  CHECK(refused({"short", "", false}));
  CHECK(err.find("32 bytes") != std::string::npos);
  CHECK(refused({std::string(40, 's'), "-----BEGIN PUBLIC KEY-----", false}));
  CHECK(refused({"", "junk", false}));
  auto dev_only = authenticator::make({"", "", true}, err);
  REQUIRE(dev_only.get() != nullptr);
  CHECK_FALSE(dev_only->verifies_tokens());
  CHECK(std::holds_alternative<std::string>(dev_only->verify("a.b.c", 0)));
  CHECK(std::holds_alternative<identity>(dev_only->dev_user("alice")));
  CHECK(std::holds_alternative<std::string>(dev_only->dev_user("a b")));
}

TEST_CASE("malformed tokens never reach libjwt's verification") {
  std::string err;
  auto a = authenticator::make({std::string(40, 's'), "", false}, err);
  REQUIRE(a.get() != nullptr);
  for (auto t : {"", "abc", "a.b", "!!!.b.c", "e30.e30.", "eyJhbGciOiJub25lIn0.e30.",
                 "eyJhbGciOiJIUzI1NiJ9.!!!.x"}) {
    CAPTURE(t);
    CHECK(std::holds_alternative<std::string>(a->verify(t, 0)));
  }
}

TEST_CASE("scopes") {
  identity id;
  CHECK_FALSE(id.has_scope("admin"));
  id.scopes = {"publish"};
  CHECK(id.has_scope("publish"));
  CHECK_FALSE(id.has_scope("admin"));
  CHECK_FALSE(id.has_scope("pub"));
}
