// libFuzzer target: the cluster handshake's own parsing (issue 15). A cluster
// secret file's text through parse_cluster_secrets, and a hostile peer's hello
// fields (nonce, node id, proof) through cluster_secret::verify. Invariants:
// a parsed file holds 1-2 secrets of at least 16 bytes; no proof a peer makes
// up without the secret is ever accepted. (CAF's BASP decodes the hello's
// bytes into these strings; its own parser is CAF's.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cluster_secret.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  std::string error;
  if (auto keys = chat::cluster::parse_cluster_secrets(text, error)) {
    if (keys->empty() || keys->size() > 2)
      std::abort();
    for (auto& k : *keys)
      if (k.size() < 16)
        std::abort();
  } else if (error.empty()) {
    std::abort();
  }
  static const chat::cluster::cluster_secret secret{{"fuzzing-cluster-secret-0123456789"}};
  // Three fields split at the first two 0xff bytes, as a peer could send them.
  auto a = text.find('\xff');
  auto b = a == std::string_view::npos ? a : text.find('\xff', a + 1);
  auto field = [&](size_t from, size_t to) {
    return from >= text.size()
             ? std::string_view{}
             : text.substr(from, to == std::string_view::npos ? to : to - from);
  };
  auto nonce = field(0, a);
  auto node = a == std::string_view::npos ? std::string_view{} : field(a + 1, b);
  auto proof =
    b == std::string_view::npos ? std::string_view{} : field(b + 1, std::string_view::npos);
  if (secret.verify("hello", nonce, node, proof))
    std::abort();
  return 0;
}
