#include "chat/runtime/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

namespace chat::runtime {

bool init_logging(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    return false;
  auto logger = spdlog::stderr_color_mt("chatd");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  spdlog::flush_on(spdlog::level::info);
  return true;
}

} // namespace chat::runtime
