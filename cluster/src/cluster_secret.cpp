#include "cluster_secret.hpp"

#include <array>
#include <stdexcept>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace chat::cluster {

namespace {

std::string hex(const unsigned char* data, size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

std::string hmac(const std::string& key, std::string_view purpose, std::string_view nonce,
                 std::string_view node) {
  // Fields are length-prefixed by their separators' positions: none of them
  // may contain '\n' (a purpose is a constant; nonces are hex; ids are checked).
  std::string text;
  text.append(purpose).append("\n").append(nonce).append("\n").append(node);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), md.data(), &len);
  return hex(md.data(), len);
}

} // namespace

std::string cluster_secret::prove(std::string_view purpose, std::string_view nonce,
                                  std::string_view node) const {
  return keys_.empty() ? std::string{} : hmac(keys_.front(), purpose, nonce, node);
}

bool cluster_secret::verify(std::string_view purpose, std::string_view nonce,
                            std::string_view node, std::string_view proof) const {
  for (auto& key : keys_) {
    auto want = hmac(key, purpose, nonce, node);
    if (proof.size() == want.size()
        && CRYPTO_memcmp(proof.data(), want.data(), want.size()) == 0)
      return true;
  }
  return false;
}

std::string cluster_secret::nonce() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw std::runtime_error("no randomness for a cluster nonce");
  return hex(bytes.data(), bytes.size());
}

std::optional<std::vector<std::string>> parse_cluster_secrets(std::string_view text,
                                                              std::string& error) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos)
      continue;
    auto last = line.find_last_not_of(" \t\r");
    out.emplace_back(line.substr(first, last - first + 1));
    if (out.size() > 2)
      break;
  }
  if (out.empty() || out.size() > 2) {
    error = "one secret per line: the current one, then optionally the one being retired";
    return std::nullopt;
  }
  for (auto& secret : out)
    if (secret.size() < 16) {
      error = "a cluster secret must be at least 16 bytes";
      return std::nullopt;
    }
  return out;
}

} // namespace chat::cluster
