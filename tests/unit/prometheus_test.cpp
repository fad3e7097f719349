#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "chat/runtime/histogram.hpp"
#include "chat/runtime/prometheus.hpp"
#include "exposition.hpp"

using chat::runtime::histogram;
using chat::runtime::prometheus_text;
using chat::test::parse_exposition;

TEST_CASE("prometheus_text writes families a scraper parses: counters, labels, histograms") {
  histogram h{{1000, 10'000, 100'000}}; // µs: 1 ms, 10 ms, 100 ms
  for (uint64_t us : {500, 1000, 1001, 20'000, 20'000, 5'000'000})
    h.observe(us);
  prometheus_text out;
  out.counter("chat_things_total", "Things.\nSecond line \\ backslash.", 7);
  out.family("chat_commands_total", "counter", "Commands by type.")
    .sample("chat_commands_total", {{"type", "send"}}, uint64_t{3})
    .sample("chat_commands_total", {{"type", "we\"ird\\\n"}}, uint64_t{1});
  out.gauge("chat_ratio", "A ratio.", 0.25);
  out.histogram("chat_latency_seconds", "Latency.", h, 1e6);
  INFO(out.str());
  auto e = parse_exposition(out.str());
  CHECK_MESSAGE(e.problems.empty(), (e.problems.empty() ? "" : e.problems.front()));
  CHECK(e.types["chat_latency_seconds"] == "histogram");
  CHECK(e.value("chat_things_total") == 7);
  CHECK(e.value(R"(chat_commands_total{type="send"})") == 3);
  CHECK(e.value(R"(chat_commands_total{type="we\"ird\\\n"})") == 1);
  CHECK(e.value("chat_ratio") == 0.25);
  // Cumulative, in seconds: <= 1 ms: 2 (500 µs, 1000 µs), <= 10 ms: 3, <= 100 ms: 5.
  CHECK(e.value(R"(chat_latency_seconds_bucket{le="0.001"})") == 2);
  CHECK(e.value(R"(chat_latency_seconds_bucket{le="0.01"})") == 3);
  CHECK(e.value(R"(chat_latency_seconds_bucket{le="0.1"})") == 5);
  CHECK(e.value(R"(chat_latency_seconds_bucket{le="+Inf"})") == 6);
  CHECK(e.value("chat_latency_seconds_count") == 6);
  CHECK(e.value("chat_latency_seconds_sum") == doctest::Approx(5.042501));
}

TEST_CASE("the exposition checker finds what a scraper would reject") {
  auto ok = "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n";
  CHECK(parse_exposition(ok).problems.empty());
  auto hist = [](const char* b1, const char* b2, const char* count) {
    return std::string{"# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} "} + b1
           + "\nh_bucket{le=\"+Inf\"} " + b2 + "\nh_sum 3\nh_count " + count + "\n";
  };
  CHECK(parse_exposition(hist("1", "2", "2")).problems.empty());
  for (auto bad : {
         std::string{"a_total 1\n"},                                            // no family
         std::string{"# HELP a A.\n# TYPE a counter\n# TYPE a counter\na 1\n"}, // TYPE twice
         std::string{"# HELP a A.\n# TYPE a counter\na one\n"},                 // not a number
         std::string{"# HELP a A.\n# TYPE a counter\na{x=\"1} 1\n"},            // broken label
         hist("3", "2", "2"), // not cumulative
         hist("1", "2", "3"), // +Inf != count
         std::string{
           "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"},
       })
    CHECK_MESSAGE(!parse_exposition(bad).problems.empty(), bad);
}

TEST_CASE("a histogram observed from several threads counts every observation once") {
  histogram h{histogram::latency_us()};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&h, t] {
      for (uint64_t i = 0; i < 10'000; ++i)
        h.observe(i * 100 + static_cast<uint64_t>(t));
    });
  // Reads while they observe stay consistent (+Inf == count, cumulative).
  for (int i = 0; i < 100; ++i) {
    prometheus_text out;
    out.histogram("h_seconds", "H.", h, 1e6);
    auto e = parse_exposition(out.str());
    REQUIRE_MESSAGE(e.problems.empty(), (e.problems.empty() ? "" : e.problems.front()));
  }
  for (auto& t : threads)
    t.join();
  auto s = h.read();
  CHECK(s.count == 40'000);
  CHECK(s.cumulative.back() == 40'000);
  uint64_t sum = 0;
  for (uint64_t t = 0; t < 4; ++t)
    for (uint64_t i = 0; i < 10'000; ++i)
      sum += i * 100 + t;
  CHECK(s.sum == sum);
}
