#include "cluster_link.hpp"

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/openssl/remote_actor.hpp>

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

} // namespace chat::cluster
