// libFuzzer target: arbitrary Authorization headers and tokens through the
// JWT verifier (header pre-check, base64url, libjwt). Invariant: no token
// signed with another key is ever accepted.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "chat/gateway/auth.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto auth = [] {
    std::string err;
    return chat::gateway::authenticator::make(
      {"fuzzing-secret-fuzzing-secret-fuzzing-secret", "", false}, err);
  }();
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto token = chat::gateway::bearer_token(text).value_or(text);
  auto r = auth->verify(token, 1700000000);
  // Random bytes must never carry a valid HMAC for our secret.
  if (std::holds_alternative<chat::gateway::identity>(r))
    std::abort();
  return 0;
}
