#include "error_frame.hpp"

#include <atomic>

#include <spdlog/spdlog.h>

#include "chat/actors/errc.hpp"
#include "chat/actors/events.hpp"
#include "chat/runtime/log.hpp"

namespace chat::actors {

namespace {
constexpr int64_t unavailable_retry_ms = 250;
constexpr int64_t storage_retry_ms = 1000; // the store retries its writes each second
} // namespace

frame error_frame(const std::string& ref, const caf::error& err, caf::actor_system& sys,
                  bool explain) {
  if (err.category() == caf::atom("chat")) {
    auto detail = [&](const char* fallback) {
      auto& ctx = err.context();
      return ctx.match_elements<std::string>() ? ctx.get_as<std::string>(0)
                                               : std::string{fallback};
    };
    switch (static_cast<errc>(err.code())) {
      case errc::storage_failed: {
        static std::atomic<uint64_t> counter{0};
        auto id = "e" + std::to_string(++counter);
        runtime::log_context cid{id}; // the id the client's error frame names
        spdlog::error("internal error {}: {}", id, sys.render(err));
        return error_event(ref, wire_error::internal, "internal error, correlation id " + id);
      }
      case errc::not_joined:
        return error_event(ref, wire_error::not_joined, detail("not joined to the room"));
      case errc::bad_argument:
        return error_event(ref, wire_error::bad_request, detail("bad argument"));
      case errc::not_found:
        return error_event(ref, wire_error::not_found, detail("not found"));
      case errc::overloaded:
        return error_event(ref, wire_error::overloaded,
                           detail("overloaded; retry with the same id"));
      case errc::storage_full:
        return error_event(ref, wire_error::unavailable,
                           "the node cannot store anything now (storage full or failing); "
                           "retry with the same id",
                           storage_retry_ms);
      case errc::room_unavailable:
      case errc::fenced:
        if (explain)
          return error_event(ref, wire_error::unavailable, detail("unavailable"),
                             unavailable_retry_ms);
        break;
    }
  }
  // A failover takes a failure timeout or two; a retry a little later is likely to land.
  return error_event(ref, wire_error::unavailable, "the room is not reachable right now; retry",
                     unavailable_retry_ms);
}

} // namespace chat::actors
