#pragma once

// The admin JSON API (docs/protocol.md, "Admin API"): what a node answers for
// the whole cluster under /admin/api/. The router checked the caller (a token
// with the admin scope, or --dev) and the room name.

#include <string>

#include "chat/gateway/http_query.hpp"
#include "http_exchange.hpp"

namespace chat::gateway::admin {

/// GET /admin/api/rooms/{room}: the room's home, replicas, epoch, seq, vector
/// clock, members, mailbox and recent messages, asked of its home node.
void room(http_exchange& ex, const request& req, const target& t, std::string room);

/// GET /admin/api/rooms?prefix=&limit=&cursor=: a page of the cluster's active
/// rooms by name (limit 1-500, default 100; `cursor` from the last page's `next`).
void rooms(http_exchange& ex, const request& req, const target& t);

/// GET /admin/api/nodes: every member of the cluster as this node sees it, with
/// the view number (the membership log's index of the member set).
void nodes(http_exchange& ex, const request& req, const target& t);

/// POST /admin/api/repair: every node up puts the rooms it stores back onto R
/// copies among the nodes up (after a member was lost); `{"repairing":[ids]}`
/// at once, the outcome in each node's log.
void repair(http_exchange& ex, const request& req, const target& t);

/// POST /admin/api/nodes/{id}/remove: removes a member gone for good (every
/// node up repairs without it first); `{"removed":id,"rooms":N}`.
void remove_node(http_exchange& ex, const request& req, const target& t, std::string id);

/// Whether `id` can be a node id (`--node-id`); replies 400 when not.
bool valid_node_id(http_exchange& ex, const std::string& id);

/// POST /admin/api/rooms/{room}/passivate: stops the room's actor after its
/// commit in flight; `{"type":"ok"}`.
void passivate(http_exchange& ex, const request& req, const target& t, std::string room);

/// Whether `id` can be a connection id ("<node>:<number>"); replies 400 when not.
bool valid_connection_id(http_exchange& ex, const std::string& id);

/// GET /admin/api/connections?user=&node=&limit=&cursor=: a page of the
/// cluster's client connections, by node, then by connection.
void connections(http_exchange& ex, const request& req, const target& t);

/// GET /admin/api/connections/{id}: one connection with its actor's and
/// session's state, asked of the node it is on.
void connection(http_exchange& ex, const request& req, const target& t, std::string id);

/// POST /admin/api/connections/{id}/close: closes it (WebSocket 4000 "closed
/// by admin"; an SSE or poll stream ends); `{"type":"ok"}`.
void close(http_exchange& ex, const request& req, const target& t, std::string id);

/// GET /admin/api/actors?node=: a node's actors by kind (count, largest
/// mailbox) and its store's state, asked of that node (default: this one).
void actors(http_exchange& ex, const request& req, const target& t);

/// GET /admin/api/users/{user}/presence: the user's presence and devices, from
/// its home node.
void presence(http_exchange& ex, const request& req, const target& t, std::string user);

} // namespace chat::gateway::admin
