#pragma once

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace chat::runtime {

/// How log lines are written: text for people, one JSON object per line for
/// log collectors.
enum class log_format { text, json };

/// Sets up the process-wide logger on stderr at `level`, each line naming the
/// node (`node_id`) and, when one is in scope, a correlation id (log_context).
///   text: 2026-12-02T06:15:01.123Z info n1 [room:lobby] took seq 1..4 ...
///   json:
///   {"ts":"2026-12-02T06:15:01.123Z","level":"info","node":"n1","cid":"room:lobby","msg":"..."}
/// Returns false (and changes nothing) for an unknown level or format name.
[[nodiscard]] bool init_logging(const std::string& level, const std::string& format = "text",
                                const std::string& node_id = "");

/// Names the correlation id of the log lines written on this thread while it
/// lives (a connection's id, `room:<name>`, an internal error's id), so that
/// the lines of one event can be found together. Nested contexts restore the
/// outer one.
class log_context {
public:
  explicit log_context(std::string_view cid);
  ~log_context();
  log_context(const log_context&) = delete;
  log_context& operator=(const log_context&) = delete;

  /// The correlation id in scope on this thread ("" when none).
  static std::string_view current();

private:
  std::string cid_;
  const std::string* outer_;
};

} // namespace chat::runtime
