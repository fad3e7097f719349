#include "chat/runtime/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

namespace chat::runtime {

namespace {

thread_local const std::string* current_cid = nullptr;

void append_json_escaped(spdlog::memory_buf_t& dest, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      dest.push_back('\\');
      dest.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      const char esc[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      dest.append(esc, esc + sizeof esc);
    } else {
      dest.push_back(static_cast<char>(c));
    }
  }
}

// %* in the text pattern: " [cid]" when a correlation id is in scope.
class cid_text_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (current_cid == nullptr || current_cid->empty())
      return;
    dest.push_back(' ');
    dest.push_back('[');
    dest.append(current_cid->data(), current_cid->data() + current_cid->size());
    dest.push_back(']');
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<cid_text_flag>();
  }
};

// %* in the JSON pattern: the message (escaped) and the correlation id field.
class json_tail_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    if (current_cid != nullptr && !current_cid->empty()) {
      static constexpr std::string_view key = R"("cid":")";
      dest.append(key.data(), key.data() + key.size());
      append_json_escaped(dest, *current_cid);
      dest.append(std::string_view{"\","});
    }
    static constexpr std::string_view key = R"("msg":")";
    dest.append(key.data(), key.data() + key.size());
    append_json_escaped(dest, std::string_view{msg.payload.data(), msg.payload.size()});
    dest.push_back('"');
  }
  [[nodiscard]] std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_tail_flag>();
  }
};

std::string json_string(std::string_view s) {
  spdlog::memory_buf_t buf;
  append_json_escaped(buf, s);
  return "\"" + std::string{buf.data(), buf.size()} + "\"";
}

} // namespace

bool init_logging(const std::string& level, const std::string& format,
                  const std::string& node_id) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off")
    return false;
  if (format != "text" && format != "json")
    return false;
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == "json") {
    formatter->add_flag<json_tail_flag>('*').set_pattern(
      R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","node":)" + json_string(node_id) + ",%*}");
  } else {
    formatter->add_flag<cid_text_flag>('*').set_pattern(
      "%Y-%m-%dT%H:%M:%S.%eZ %^%l%$" + (node_id.empty() ? std::string{} : " " + node_id)
      + "%* %v");
  }
  auto logger = spdlog::get("chatd");
  if (!logger)
    logger = spdlog::stderr_color_mt("chatd");
  logger->set_formatter(std::move(formatter));
  logger->set_level(lvl);
  spdlog::set_default_logger(logger);
  spdlog::flush_on(spdlog::level::info);
  return true;
}

log_context::log_context(std::string_view cid) : cid_(cid), outer_(current_cid) {
  current_cid = &cid_;
}

log_context::~log_context() {
  current_cid = outer_;
}

std::string_view log_context::current() {
  return current_cid == nullptr ? std::string_view{} : std::string_view{*current_cid};
}

} // namespace chat::runtime
