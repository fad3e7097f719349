#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "chat/runtime/clock.hpp"
#include "chat/runtime/config.hpp"
#include "chat/runtime/endpoint.hpp"
#include "chat/runtime/throttled_log.hpp"
#include "chat/runtime/vector_clock.hpp"
#include "temp_dir.hpp"

using namespace chat::runtime;

namespace {

std::variant<node_config, parse_exit> parse(std::vector<std::string> args) {
  args.insert(args.begin(), "chatd");
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  return parse_node_config(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::vector<std::string> args) {
  auto r = parse(std::move(args));
  auto* e = std::get_if<parse_exit>(&r);
  REQUIRE(e != nullptr);
  CHECK(e->code == 2);
  CHECK(e->text.find('\n') == std::string::npos);
  return e->text;
}

} // namespace

TEST_CASE("endpoints parse or say why not") {
  std::string err;
  auto ep = parse_endpoint("127.0.0.1:8080", err);
  REQUIRE(ep);
  CHECK(ep->host == "127.0.0.1");
  CHECK(ep->port == 8080);
  CHECK(parse_endpoint("localhost:0", err)->host == "127.0.0.1");
  CHECK(parse_endpoint("[::1]:9000", err)->port == 9000);
  for (auto bad : {"", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1",
                   "host.example:80", ":80", "::1:80", "[::1]80", "1.2.3:80"}) {
    CAPTURE(bad);
    err.clear();
    CHECK_FALSE(parse_endpoint(bad, err));
    CHECK(err.find("bad address") == 0);
  }
}

TEST_CASE("flags have the documented defaults") {
  auto r = parse({});
  auto& cfg = std::get<node_config>(r);
  CHECK(cfg.http.to_string() == "127.0.0.1:8080");
  CHECK(cfg.data_dir == "./data");
  CHECK_FALSE(cfg.dev);
  CHECK(cfg.heartbeat_ms == 20000);
  CHECK(cfg.durability == durability::sync);
  CHECK(cfg.node_id == "n1");
}

TEST_CASE("flags are read") {
  auto r = parse({"--dev", "--http", "127.0.0.1:9001", "--data", "/tmp/x", "--node-id", "n7",
                  "--log-level", "debug", "--heartbeat-ms", "250", "--durability", "async"});
  auto& cfg = std::get<node_config>(r);
  CHECK(cfg.dev);
  CHECK(cfg.http.port == 9001);
  CHECK(cfg.data_dir == "/tmp/x");
  CHECK(cfg.node_id == "n7");
  CHECK(cfg.log_level == "debug");
  CHECK(cfg.heartbeat_ms == 250);
  CHECK(cfg.durability == durability::async);
}

TEST_CASE("bad flags are one-line errors with exit code 2") {
  CHECK(error_of({"--no-such-flag"}).find("--no-such-flag") != std::string::npos);
  CHECK(error_of({"--http", "nonsense"}).find("--http") != std::string::npos);
  CHECK(error_of({"--heartbeat-ms", "abc"}).find("heartbeat") != std::string::npos);
  CHECK(error_of({"--heartbeat-ms", "0"}).find("heartbeat") != std::string::npos);
  CHECK(error_of({"--durability", "sometimes"}).find("durability") != std::string::npos);
  CHECK(error_of({"--log-level", "loud"}).find("log-level") != std::string::npos);
  CHECK(error_of({"--node-id", "a b"}).find("--node-id") != std::string::npos);
  CHECK(error_of({"--config", "/nonexistent/chatd.toml"}).find("chatd.toml")
        != std::string::npos);
}

TEST_CASE("--help exits 0 with the flag list") {
  auto r = parse({"--help"});
  auto& e = std::get<parse_exit>(r);
  CHECK(e.code == 0);
  CHECK(e.text.find("--heartbeat-ms") != std::string::npos);
}

TEST_CASE("config file and CHAT_* env vars; flags win over the file, the file over env") {
  chat::test::temp_dir dir;
  auto file = dir.path() + "/chatd.toml";
  std::ofstream{file} << "http = \"127.0.0.1:7001\"\nnode-id = \"fromfile\"\n"
                         "heartbeat-ms = 1234\n";
  {
    auto r = parse({"--config", file});
    auto& cfg = std::get<node_config>(r);
    CHECK(cfg.http.port == 7001);
    CHECK(cfg.node_id == "fromfile");
    CHECK(cfg.heartbeat_ms == 1234);
  }
  setenv("CHAT_NODE_ID", "fromenv", 1);
  setenv("CHAT_DATA", "/tmp/fromenv", 1);
  {
    auto r = parse({"--config", file});
    CHECK(std::get<node_config>(r).node_id == "fromfile");
    CHECK(std::get<node_config>(r).data_dir == "/tmp/fromenv");
    auto r2 = parse({"--config", file, "--node-id", "fromflag"});
    CHECK(std::get<node_config>(r2).node_id == "fromflag");
  }
  unsetenv("CHAT_NODE_ID");
  unsetenv("CHAT_DATA");
  std::ofstream{file} << "unknown-key = 1\n";
  CHECK(error_of({"--config", file}).find("unknown-key") != std::string::npos);
}

TEST_CASE("vector clocks tick per node and stay sorted") {
  vector_clock vc;
  CHECK(vc.tick("n2") == 1);
  CHECK(vc.tick("n1") == 1);
  CHECK(vc.tick("n2") == 2);
  CHECK(vc.get("n2") == 2);
  CHECK(vc.get("n3") == 0);
  REQUIRE(vc.entries().size() == 2);
  CHECK(vc.entries()[0].first == "n1");
}

#include "chat/runtime/rate_limit.hpp"

TEST_CASE("rate limits parse as PER_SEC:BURST or off") {
  std::string err;
  auto r = parse_rate_limit("20:40", err);
  REQUIRE(r);
  CHECK(r->per_sec == 20);
  CHECK(r->burst == 40);
  CHECK(r->to_string() == "20:40");
  CHECK(parse_rate_limit("0.5:1", err)->per_sec == 0.5);
  CHECK_FALSE(parse_rate_limit("off", err)->enabled());
  for (auto bad : {"", "20", "20:", ":40", "a:b", "-1:5", "0:5", "5:0", "5:0.5", "inf:3"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_rate_limit(bad, err));
  }
}

TEST_CASE("token buckets allow the burst, then the rate, and say when to retry") {
  using namespace std::chrono_literals;
  auto t0 = token_bucket::clock::time_point{} + 1h;
  token_bucket b{{10, 3}, t0};
  int64_t retry = 0;
  CHECK(b.take(t0, retry));
  CHECK(b.take(t0, retry));
  CHECK(b.take(t0, retry));
  CHECK_FALSE(b.take(t0, retry));
  CHECK(retry == 100);
  CHECK_FALSE(b.take(t0 + 50ms, retry));
  CHECK(retry == 50);
  CHECK(b.take(t0 + 100ms, retry));
  CHECK_FALSE(b.full(t0 + 100ms));
  CHECK(b.full(t0 + 1s));
  // The admin API shows the level without taking anything.
  CHECK(b.level(t0 + 100ms) == doctest::Approx(0));
  CHECK(b.level(t0 + 150ms) == doctest::Approx(0.5));
  CHECK(b.level(t0 + 1s) == doctest::Approx(3));
  CHECK(b.take(t0 + 200ms, retry));
  token_bucket off{{}, t0};
  for (int i = 0; i < 1000; ++i)
    CHECK(off.take(t0, retry));
  CHECK(off.level(t0) < 0);
  CHECK(off.full(t0));
}

TEST_CASE("a steady-clock instant in wall-clock ms, and 0 for one never set") {
  using namespace std::chrono_literals;
  auto now = std::chrono::steady_clock::now();
  auto before = wall_ms();
  auto at = wall_ms_of(now - 2s, now);
  CHECK(at >= before - 2000 - 50);
  CHECK(at <= wall_ms() - 2000);
  CHECK(wall_ms_of({}, now) == 0);
}

TEST_CASE("a throttled warning is logged at once, then once per interval with its count") {
  std::ostringstream out;
  auto before = spdlog::default_logger();
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  sink->set_pattern("%v");
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("throttle-test", sink));
  throttled_log log{std::chrono::seconds(1)};
  for (int i = 0; i < 1000; ++i)
    log.note("room 'r': cannot write");
  CHECK(out.str() == "room 'r': cannot write\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  log.note("room 's': cannot write");
  spdlog::set_default_logger(before);
  CHECK(out.str()
        == "room 'r': cannot write\n"
           "room 's': cannot write (1000 times since this line was last logged)\n");
}
