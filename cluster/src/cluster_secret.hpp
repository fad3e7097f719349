#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::cluster {

/// Proof that a node knows the cluster secret without sending it: an HMAC-SHA256,
/// keyed with the secret, over a purpose, a nonce the other side chose and the
/// prover's node id (so a proof is good for one handshake only).
class cluster_secret {
public:
  cluster_secret() = default;
  /// The first key proves; every key is accepted (the second one while rotating).
  explicit cluster_secret(std::vector<std::string> keys) : keys_(std::move(keys)) {}

  [[nodiscard]] bool enabled() const { return !keys_.empty(); }
  [[nodiscard]] std::string prove(std::string_view purpose, std::string_view nonce,
                                  std::string_view node) const;
  [[nodiscard]] bool verify(std::string_view purpose, std::string_view nonce,
                            std::string_view node, std::string_view proof) const;
  /// 128 random bits, hex.
  [[nodiscard]] static std::string nonce();

private:
  std::vector<std::string> keys_;
};

/// The secrets of a cluster secret file's text: one per line (the current one,
/// then optionally the one being retired), blanks around each trimmed, each at
/// least 16 bytes. Otherwise nothing, and `error` says why in one line.
[[nodiscard]] std::optional<std::vector<std::string>>
parse_cluster_secrets(std::string_view text, std::string& error);

} // namespace chat::cluster
