#pragma once

// chatctl's one HTTP exchange with a node (Beast lives in http_client.cpp
// only): a GET or POST with an optional bearer token, over http:// or
// https://, answered with the status and body, or why the node could not be
// reached.

#include <chrono>
#include <optional>
#include <string>

namespace chatctl {

/// Where a node listens, from a base URL such as http://127.0.0.1:8080.
struct node_url {
  bool tls = false;
  std::string host;
  std::string port;
};

/// Parses `text` ("http://host:port" or "https://host:port", an optional
/// trailing slash); sets `error` and returns nothing when it is not one.
std::optional<node_url> parse_node_url(const std::string& text, std::string& error);

struct http_answer {
  unsigned status = 0;
  std::string body;
};

/// Sends `method` ("GET" or "POST") `target` to the node (waiting up to `wait`
/// for each step: connect, send, answer). A non-empty `ca_file` replaces the
/// system's CAs for https. Returns the answer, or sets `error` (the node cannot
/// be reached, TLS failed) and returns nothing.
std::optional<http_answer> exchange(const node_url& url, const std::string& method,
                                    const std::string& target, const std::string& token,
                                    const std::string& ca_file, std::string& error,
                                    std::chrono::seconds wait = std::chrono::seconds(10));

} // namespace chatctl
