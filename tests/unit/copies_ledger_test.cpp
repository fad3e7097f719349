#include <doctest/doctest.h>

#include "copies_ledger.hpp"

using chat::cluster::copies_ledger;

TEST_CASE("copies ledger: a cluster that grew from fewer than R voters counts with that few "
          "copies until every voter repaired") {
  copies_ledger l;
  CHECK_FALSE(l.short_copies({"n1", "n2"}));
  CHECK_FALSE(l.owes("n1"));
  CHECK_FALSE(l.recorded_since(1));

  REQUIRE(l.apply(copies_ledger::short_command(1, 1))); // n1 alone, then n2 joins
  CHECK(l.recorded_since(1));
  CHECK_FALSE(l.recorded_since(2)); // a later member set needs its own
  CHECK(l.short_copies({"n1", "n2"}) == 1u);
  CHECK(l.owes("n1"));
  CHECK(l.owes("n2"));

  REQUIRE(l.apply(copies_ledger::repaired_command("n1", 1)));
  CHECK(l.short_copies({"n1", "n2"}) == 1u);
  CHECK_FALSE(l.completes({"n1", "n2"}));
  REQUIRE(l.apply(copies_ledger::repaired_command("n2", 1)));
  CHECK_FALSE(l.short_copies({"n1", "n2"}));
  // n3's member set is newer than the last repair it joined after: until the
  // leader records "complete", a view that counts it counts with one copy.
  CHECK(l.short_copies({"n1", "n2", "n3"}) == 1u);
  CHECK(l.completes({"n1", "n2"}));

  REQUIRE(l.apply(copies_ledger::complete_command(1)));
  CHECK_FALSE(l.short_copies({"n1", "n2", "n3"}));
  CHECK_FALSE(l.owes("n3"));
  CHECK_FALSE(l.completes({"n1", "n2", "n3"}));
  // Complete: a cluster that shrinks to one again under that member set
  // records the next growth afresh.
  CHECK_FALSE(l.recorded_since(1));
}

TEST_CASE("copies ledger: a member repairs only once the voter the short was recorded for is "
          "added (R = 3: a repair among two voters places the rooms on two)") {
  copies_ledger l;
  REQUIRE(l.apply(copies_ledger::short_command(1, 1)));
  CHECK_FALSE(l.may_repair(1));
  CHECK(l.may_repair(2));
  REQUIRE(l.apply(copies_ledger::short_command(2, 4)));
  CHECK_FALSE(l.may_repair(2));
  CHECK(l.may_repair(3));
}

TEST_CASE("copies ledger: a repair from before a newer short does not count; the fewest "
          "copies stay until complete") {
  copies_ledger l;
  REQUIRE(l.apply(copies_ledger::short_command(1, 1)));
  REQUIRE(l.apply(copies_ledger::short_command(2, 5))); // R = 3: grew 1 -> 2 -> 3
  CHECK(l.short_copies({"n1", "n2", "n3"}) == 1u);      // n1 never repaired after the first
  REQUIRE(l.apply(copies_ledger::repaired_command("n1", 1))); // stale: generation 1 of 2
  REQUIRE(l.apply(copies_ledger::complete_command(1)));       // stale too
  CHECK(l.owes("n1"));
  CHECK(l.short_copies({"n1", "n2", "n3"}) == 1u);
  for (auto id : {"n1", "n2", "n3"})
    REQUIRE(l.apply(copies_ledger::repaired_command(id, 2)));
  CHECK_FALSE(l.short_copies({"n1", "n2", "n3"}));
  REQUIRE(l.apply(copies_ledger::complete_command(2)));
  // Shrunk to one and grew again: counted afresh.
  REQUIRE(l.apply(copies_ledger::short_command(1, 9)));
  CHECK(l.short_copies({"n1", "n4"}) == 1u);
  CHECK(l.owes("n1"));
}

TEST_CASE("copies ledger: commands it does not know, or that do not parse, change nothing") {
  copies_ledger l;
  CHECK_FALSE(l.apply("hello"));
  CHECK_FALSE(l.apply("short"));
  CHECK_FALSE(l.apply("short 0 3"));
  CHECK_FALSE(l.apply("short x 3"));
  CHECK_FALSE(l.apply("repaired"));
  CHECK_FALSE(l.apply("complete z"));
  CHECK(l.generation() == 0);
  CHECK_FALSE(l.short_copies({"n1"}));
  // No voters known (a node without a log): counted with the fewest copies.
  REQUIRE(l.apply(copies_ledger::short_command(1, 1)));
  CHECK(l.short_copies({}) == 1u);
}
