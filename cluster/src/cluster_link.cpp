#include "cluster_link.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <memory>

#include "chat/cluster/membership.hpp"

namespace chat::cluster {

caf::expected<uint16_t> publish_member(caf::actor_system& sys, const caf::actor& whom,
                                       const std::string& host, uint16_t port, bool tls) {
  if (tls)
    return caf::openssl::publish(whom, port, host.c_str(), true);
  return sys.middleman().publish(whom, port, host.c_str(), true);
}

caf::expected<caf::actor> connect_member(caf::actor_system& sys, const std::string& host,
                                         uint16_t port, bool tls) {
  if (tls)
    return caf::openssl::remote_actor(sys, host, port);
  return sys.middleman().remote_actor(host, port);
}

caf::io::middleman_actor link_manager(caf::actor_system& sys, bool tls) {
  return tls ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
}

bool check_tls_files(const cluster_options::tls_files& tls, std::string& error) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_method()),
                                                        &SSL_CTX_free};
  auto fail = [&](const std::string& what) {
    char reason[256] = "unknown reason";
    if (auto code = ERR_get_error(); code != 0)
      ERR_error_string_n(code, reason, sizeof reason);
    ERR_clear_error();
    error = what + " (" + reason + ")";
    return false;
  };
  if (!ctx)
    return fail("cannot set up TLS");
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert.c_str()) != 1)
    return fail("--cluster-tls-cert: '" + tls.cert + "' is not a PEM certificate chain");
  // OpenSSL also refuses here a key that does not match the certificate.
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key.c_str(), SSL_FILETYPE_PEM) != 1)
    return fail("--cluster-tls-key: '" + tls.key
                + "' is not a PEM private key, or not the key of '" + tls.cert + "'");
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    return fail("--cluster-tls-key: '" + tls.key + "' is not the key of '" + tls.cert + "'");
  if (SSL_CTX_load_verify_locations(ctx.get(), tls.ca.c_str(), nullptr) != 1)
    return fail("--cluster-tls-ca: '" + tls.ca + "' is not a PEM CA certificate");
  return true;
}

} // namespace chat::cluster
