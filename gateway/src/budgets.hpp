#pragma once

#include <memory>
#include <string>
#include <variant>

#include "shared_state.hpp"

namespace chat::gateway {

/// Why a connection was refused a place: a limit of the client's own (its user,
/// its address: 429, try later) or of the node (503).
struct refusal {
  bool per_client = false;
  std::string why;
};

/// What an SSE or poll stream holds of the node's limits while it is open: a
/// connection slot and a place in its user's and its client address's stream
/// counts. Charged when the stream is created, given back when it ends.
class stream_budget {
public:
  /// Takes all three places, or none and says which limit was reached.
  static std::variant<stream_budget, refusal> take(const std::shared_ptr<shared_state>& state,
                                                   const std::string& user,
                                                   const std::string& address) {
    if (!state->streams_per_user.acquire(user))
      return refusal{true, "user '" + user + "' has "
                             + std::to_string(state->streams_per_user.max())
                             + " streams open on this node already"};
    if (!state->streams_per_ip.acquire(address)) {
      state->streams_per_user.release(user);
      return refusal{true, "this address has " + std::to_string(state->streams_per_ip.max())
                             + " streams open already"};
    }
    if (!state->reserve_slot()) {
      state->streams_per_user.release(user);
      state->streams_per_ip.release(address);
      return refusal{false, "too many connections on this node"};
    }
    return stream_budget{state, user, address};
  }

  stream_budget(stream_budget&& other) noexcept :
    state_(std::move(other.state_)), user_(std::move(other.user_)),
    address_(std::move(other.address_)) {}
  stream_budget& operator=(stream_budget&&) = delete;
  stream_budget(const stream_budget&) = delete;

  ~stream_budget() {
    if (!state_)
      return;
    state_->streams_per_user.release(user_);
    state_->streams_per_ip.release(address_);
    state_->release_slot();
  }

private:
  stream_budget(std::shared_ptr<shared_state> state, std::string user, std::string address) :
    state_(std::move(state)), user_(std::move(user)), address_(std::move(address)) {}

  std::shared_ptr<shared_state> state_;
  std::string user_;
  std::string address_;
};

/// A place among the WebSockets that have yet to authenticate (per node and per
/// client address), held until the `auth` frame or the end of the socket. Such
/// sockets never take a connection slot: they cannot lock out clients that do
/// authenticate.
class unauthenticated_ticket {
public:
  /// A ticket, or why not (the node's budget, or the address's).
  static std::variant<std::unique_ptr<unauthenticated_ticket>, refusal>
  take(const std::shared_ptr<shared_state>& state, const std::string& address) {
    if (!state->unauthenticated.acquire())
      return refusal{false, "too many unauthenticated connections on this node; "
                            "authenticate at the handshake"};
    if (!state->unauthenticated_per_ip.acquire(address)) {
      state->unauthenticated.release();
      return refusal{true, "too many unauthenticated connections from this address; "
                           "authenticate at the handshake"};
    }
    return std::unique_ptr<unauthenticated_ticket>{new unauthenticated_ticket(state, address)};
  }

  ~unauthenticated_ticket() {
    state_->unauthenticated_per_ip.release(address_);
    state_->unauthenticated.release();
  }

  unauthenticated_ticket(const unauthenticated_ticket&) = delete;
  unauthenticated_ticket& operator=(const unauthenticated_ticket&) = delete;

private:
  unauthenticated_ticket(std::shared_ptr<shared_state> state, std::string address) :
    state_(std::move(state)), address_(std::move(address)) {}

  std::shared_ptr<shared_state> state_;
  std::string address_;
};

} // namespace chat::gateway
