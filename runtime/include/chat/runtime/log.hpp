#pragma once

#include <string>

#include <spdlog/spdlog.h>

namespace chat::runtime {

/// Sets up the process-wide logger: text lines on stderr at `level`.
/// Returns false (and changes nothing) for an unknown level name.
[[nodiscard]] bool init_logging(const std::string& level);

} // namespace chat::runtime
