#pragma once

// What every scenario of chat-bench shares: time, frame peeking, source
// addresses and the connect/run loops over one single-threaded io_context.

#include <chrono>
#include <cstdint>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "scenarios.hpp"
#include "wire.hpp"
#include "ws_client.hpp"

namespace bench {

namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

/// Monotonic nanoseconds, comparable across processes on one machine.
int64_t now_ns();

/// Wall-clock milliseconds.
int64_t wall_ms();

/// Reads the unsigned number after `key` in a flat JSON text (our own frames).
bool number_after(std::string_view text, std::string_view key, int64_t& out);

/// The string value after `key` (no escapes: our names have none).
std::string_view string_after(std::string_view text, std::string_view key);

/// True for an event frame of `type` (events start with {"type":"<type>").
bool is_type(std::string_view frame, std::string_view type);

/// A suffix that makes room and user names unique per run.
std::string unique_suffix();

/// The source address of the i-th socket (empty: the kernel's choice).
std::string source_ip(const options& o, size_t i);

/// The chatd port of the i-th socket: round robin over --ports.
uint16_t port_of(const options& o, size_t i);

/// Seconds as a steady_clock duration.
clock::duration seconds(double s);

/// Connects `n` clients with at most 200 handshakes in flight, calling
/// `on_connected(i)` for each; false (with a message) on any failure.
/// `make(i)` creates client i; `target(i)` is its upgrade path; its source
/// address and port are those of socket `offset + i`.
bool connect_all(asio::io_context& ioc, const options& o, size_t n,
                 const std::function<std::shared_ptr<ws_client>(size_t)>& make,
                 const std::function<std::string(size_t)>& target,
                 const std::function<void(size_t)>& on_connected, size_t offset = 0);

/// Sockets of a scenario that are members of rooms, in any protocol.
struct member_sockets {
  std::vector<std::shared_ptr<ws_client>> sockets;
  /// Socket i's user and room.
  std::function<std::string(size_t)> user;
  std::function<std::string(size_t)> room;
  /// Every frame after the join: (socket, what it is, the frame).
  std::function<void(size_t, frame_event, std::string_view)> on_frame;
  /// Source addresses and ports are chosen by offset + i (after other sockets).
  size_t offset = 0;
  /// See ws_client::make: on for latency runs.
  bool quick_ack = false;
  /// Filled by connect_and_join (the sockets' handlers use them for as long
  /// as the sockets live, so they are kept here rather than on its stack).
  std::vector<char> is_member;
  size_t joined = 0;
};

/// Connects `n` sockets through `w` and joins each to its room (the
/// protocol's handshake and its required replies included); false (with a
/// message) unless all joined within 60 s. `ms` and `w` must outlive the sockets.
bool connect_and_join(asio::io_context& ioc, const options& o, const wire& w, size_t n,
                      member_sockets& ms);

/// CPU seconds this process used so far (user + system): the load generator's
/// own load, so that a saturated load generator is visible in the results.
double own_cpu_seconds();

/// Runs the loop until `done()` or the deadline.
template <class Done>
void run_until(asio::io_context& ioc, clock::time_point deadline, Done done) {
  while (!done() && clock::now() < deadline)
    ioc.run_one_for(std::chrono::milliseconds(50));
}

} // namespace bench
