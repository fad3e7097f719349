#include "chat/runtime/rate_limit.hpp"

#include <charconv>
#include <cmath>

namespace chat::runtime {

namespace {

std::optional<double> parse_number(std::string_view s) {
  // std::from_chars for double is available in libstdc++ 11+.
  double v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

} // namespace

std::string rate_limit::to_string() const {
  if (!enabled())
    return "off";
  auto fmt = [](double x) {
    auto s = std::to_string(x);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.')
      s.pop_back();
    return s;
  };
  return fmt(per_sec) + ":" + fmt(burst);
}

std::optional<rate_limit> parse_rate_limit(std::string_view text, std::string& error) {
  if (text == "off")
    return rate_limit{};
  auto colon = text.find(':');
  auto rate = parse_number(text.substr(0, colon));
  auto burst =
    colon == std::string_view::npos ? std::nullopt : parse_number(text.substr(colon + 1));
  if (!rate || !burst || *rate <= 0 || *burst < 1) {
    error = "'" + std::string{text} + "' is not PER_SEC:BURST (e.g. 20:40) or off";
    return std::nullopt;
  }
  return rate_limit{*rate, *burst};
}

void token_bucket::refill(clock::time_point now) {
  if (now > last_) {
    auto dt = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(limit_.burst, tokens_ + dt * limit_.per_sec);
    last_ = now;
  }
}

bool token_bucket::take(clock::time_point now, int64_t& retry_after_ms) {
  if (!limit_.enabled())
    return true;
  refill(now);
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return true;
  }
  retry_after_ms = static_cast<int64_t>(std::ceil((1 - tokens_) / limit_.per_sec * 1000));
  return false;
}

bool token_bucket::full(clock::time_point now) const {
  return !limit_.enabled() || level(now) >= limit_.burst;
}

double token_bucket::level(clock::time_point now) const {
  if (!limit_.enabled())
    return -1;
  auto copy = *this;
  copy.refill(now);
  return copy.tokens_;
}

} // namespace chat::runtime
