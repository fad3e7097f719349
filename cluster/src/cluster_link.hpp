#pragma once

#include <cstdint>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/io/middleman_actor.hpp>

// How members reach each other: CAF's middleman over plain TCP, or over TLS
// with CAF's OpenSSL module when the node has a cluster certificate
// (`--cluster-tls-cert/key/ca`, docs/security.md). Every connection between
// members is opened or accepted here, so no link can fall back to plain TCP.
namespace chat::cluster {

/// Publishes the membership actor on `host:port` (0: a free port).
caf::expected<uint16_t> publish_member(caf::actor_system& sys, const caf::actor& whom,
                                       const std::string& host, uint16_t port, bool tls);

/// The member published at `host:port` (blocking; a scoped call).
caf::expected<caf::actor> connect_member(caf::actor_system& sys, const std::string& host,
                                         uint16_t port, bool tls);

/// The middleman actor that opens connections (for asynchronous dials).
caf::io::middleman_actor link_manager(caf::actor_system& sys, bool tls);

} // namespace chat::cluster
