#pragma once

#include <chrono>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/steady_timer.hpp>

namespace chat::gateway {

/// The deadlines of the sessions of one io_context (heartbeat, authentication,
/// close), checked by one timer for all of them instead of a timer per session:
/// a timer and its pending wait were ~0.2 KiB of every idle connection. An asio
/// service of the io_context, used only from the one thread that runs it.
class session_clock : public boost::asio::execution_context::service {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// A session with a deadline, linked into its clock (no allocation).
  class entry {
  public:
    /// Called on each tick at or after the entry's deadline.
    virtual void on_deadline(time_point now) = 0;

    void set_deadline(time_point at) { deadline_ = at; }

  protected:
    entry() = default;
    ~entry() = default;

  private:
    friend class session_clock;
    entry* prev_ = nullptr;
    entry* next_ = nullptr;
    session_clock* clock_ = nullptr; ///< while linked
    time_point deadline_ = time_point::max();
  };

  static boost::asio::execution_context::id id;

  explicit session_clock(boost::asio::execution_context& ctx);

  /// The clock of the io_context that `ex` runs on.
  static session_clock& of(const boost::asio::any_io_executor& ex);

  /// Starts checking `e`; deadlines are met within `resolution`.
  void add(entry& e, std::chrono::milliseconds resolution);
  /// Stops checking `e` (idempotent; any clock).
  static void remove(entry& e);

private:
  void shutdown() override;
  void arm();
  void tick();

  boost::asio::steady_timer timer_;
  entry* head_ = nullptr;
  std::chrono::milliseconds resolution_{1000};
  bool armed_ = false;
};

} // namespace chat::gateway
