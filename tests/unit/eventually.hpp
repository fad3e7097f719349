#pragma once

#include <chrono>
#include <functional>
#include <thread>

namespace chat::test {

/// Polls `pred` every 20 ms until it holds or `limit` passes; its last answer.
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return pred();
}

} // namespace chat::test
