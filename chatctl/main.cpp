// chatctl: the admin API (docs/protocol.md, "Admin API") from a shell. Tables
// for people, --json for scripts; exit status 0, 1 (the node refused or could
// not be reached: the reason on stderr), 2 (usage). docs/admin.md shows it.

#include <chrono>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "http_client.hpp"
#include "views.hpp"

namespace {

using json = nlohmann::json;

/// Pages a list command follows before it stops (at 500 rows a page).
constexpr int max_pages = 200;

std::string env_or(const char* name, std::string fallback) {
  auto* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string{v} : fallback;
}

std::string query_escape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s)
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  return out;
}

struct failure {
  std::string why;
};

class node_client {
public:
  node_client(chatctl::node_url url, std::string token, std::string ca) :
    url_(std::move(url)), token_(std::move(token)), ca_(std::move(ca)) {}

  /// The JSON of a 2xx answer; a failure (with the node's error) otherwise.
  json call(const std::string& method, const std::string& target,
            std::chrono::seconds wait = std::chrono::seconds(10)) const {
    std::string error;
    auto answer = chatctl::exchange(url_, method, target, token_, ca_, error, wait);
    if (!answer)
      throw failure{error};
    auto body = json::parse(answer->body, nullptr, false);
    if (answer->status >= 200 && answer->status < 300 && !body.is_discarded())
      return body;
    std::string why = "HTTP " + std::to_string(answer->status);
    if (body.is_object() && body.contains("code"))
      why = body.value("code", "") + ": " + body.value("message", "") + " (" + why + ")";
    if (answer->status == 401)
      why += "; give an admin token with --token or CHAT_TOKEN";
    else if (answer->status == 403)
      why += "; the token needs the 'admin' scope";
    throw failure{why};
  }

  /// Every page of a list (`key` its array), as one reply with `next` null.
  json all_pages(const std::string& path, std::string query, const std::string& key) const {
    json out = {{key, json::array()}, {"next", nullptr}};
    std::string cursor;
    for (int page = 0; page < max_pages; ++page) {
      auto target = path + "?limit=500" + query;
      if (!cursor.empty())
        target += "&cursor=" + query_escape(cursor);
      auto reply = call("GET", target);
      for (auto& x : reply.at(key))
        out[key].push_back(x);
      if (reply.contains("partial"))
        for (auto& node : reply["partial"]) {
          std::cerr << "chatctl: node " << node.get<std::string>()
                    << " did not answer in time: its part of this list is missing\n";
          out["partial"].push_back(node);
        }
      if (!reply["next"].is_string())
        return out;
      cursor = reply["next"].get<std::string>();
    }
    std::cerr << "chatctl: stopped after " << max_pages << " pages\n";
    out["next"] = cursor;
    return out;
  }

private:
  chatctl::node_url url_;
  std::string token_;
  std::string ca_;
};

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"chatctl: look into a chatd node or cluster through its admin API.\n"
               "Any node answers for the whole cluster."};
  app.set_help_all_flag("--help-all", "Every subcommand's help");
  std::string url = env_or("CHAT_URL", "http://127.0.0.1:8080");
  std::string token = env_or("CHAT_TOKEN", "");
  std::string ca;
  bool as_json = false;
  app.add_option("--url", url,
                 "The node's base URL (default $CHAT_URL, else http://127.0.0.1:8080)");
  app.add_option("--token", token,
                 "An admin token (default $CHAT_TOKEN; a --dev node needs none)");
  app.add_option("--ca", ca, "CA certificates (PEM) to trust for an https:// node")
    ->check(CLI::ExistingFile);
  app.add_flag("--json", as_json, "Print the API's JSON (every page of a list in one)");
  app.require_subcommand(1, 1);

  auto* nodes = app.add_subcommand("nodes", "The cluster's nodes: status, connections, rooms");
  std::string prefix;
  auto* rooms = app.add_subcommand("rooms", "The active rooms, by name");
  rooms->add_option("--prefix", prefix, "Only rooms whose names start with this");
  std::string room_name;
  auto* room =
    app.add_subcommand("room", "One room: home, replicas, seq, members, recent messages");
  room->add_option("NAME", room_name, "The room")->required();
  std::string user;
  std::string node;
  auto* connections = app.add_subcommand("connections", "The client connections, by node");
  connections->add_option("--user", user, "Only this user's");
  connections->add_option("--node", node, "Only those on this node");
  std::string actors_node;
  auto* actors = app.add_subcommand("actors", "A node's actors by kind, and its store");
  actors->add_option("--node", actors_node, "The node (default: the one asked)");
  std::string presence_user;
  auto* presence = app.add_subcommand("presence", "A user's presence and devices");
  presence->add_option("USER", presence_user, "The user")->required();
  std::string conn;
  auto* kick = app.add_subcommand("kick", "Closes a connection (WebSocket close 4000)");
  kick->add_option("CONNECTION", conn, "Its id, <node>:<number>, as `connections` lists it")
    ->required();
  auto* repair = app.add_subcommand(
    "repair", "After a node was lost: every node up puts its rooms back onto R copies");
  std::string gone;
  auto* remove = app.add_subcommand(
    "remove-node", "Removes a member gone for good (down; every node up repairs without it)");
  remove->add_option("NODE", gone, "The member's node id")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  std::string error;
  auto parsed = chatctl::parse_node_url(url, error);
  if (!parsed) {
    std::cerr << "chatctl: " << error << '\n';
    return 2;
  }
  node_client client{*parsed, token, ca};
  try {
    json reply;
    void (*view)(const json&, std::ostream&) = nullptr;
    if (*nodes) {
      reply = client.call("GET", "/admin/api/nodes");
      view = chatctl::print_nodes;
    } else if (*rooms) {
      auto q = prefix.empty() ? std::string{} : "&prefix=" + query_escape(prefix);
      reply = client.all_pages("/admin/api/rooms", q, "rooms");
      view = chatctl::print_rooms;
    } else if (*room) {
      reply = client.call("GET", "/admin/api/rooms/" + query_escape(room_name));
      view = chatctl::print_room;
    } else if (*connections) {
      std::string q;
      if (!user.empty())
        q += "&user=" + query_escape(user);
      if (!node.empty())
        q += "&node=" + query_escape(node);
      reply = client.all_pages("/admin/api/connections", q, "connections");
      view = chatctl::print_connections;
    } else if (*actors) {
      auto q = actors_node.empty() ? std::string{} : "?node=" + query_escape(actors_node);
      reply = client.call("GET", "/admin/api/actors" + q);
      view = chatctl::print_actors;
    } else if (*presence) {
      reply =
        client.call("GET", "/admin/api/users/" + query_escape(presence_user) + "/presence");
      view = chatctl::print_presence;
    } else if (*repair) {
      reply = client.call("POST", "/admin/api/repair");
      if (!as_json) {
        std::cout << "repairing on " << reply.at("repairing").size()
                  << " node(s); each logs 'repair: N of M room(s)' when done\n";
        return 0;
      }
    } else if (*remove) {
      // Every node up repairs the rooms it stores first: the node gives up
      // after 600 s, and says so.
      reply = client.call("POST", "/admin/api/nodes/" + query_escape(gone) + "/remove",
                          std::chrono::seconds(660));
      if (!as_json) {
        std::cout << "removed " << reply.at("removed").get<std::string>() << " ("
                  << reply.at("rooms").get<uint64_t>() << " room(s) repaired without it)\n";
        return 0;
      }
    } else if (*kick) {
      reply = client.call("POST", "/admin/api/connections/" + query_escape(conn) + "/close");
      if (!as_json) {
        std::cout << "closed " << conn << '\n';
        return 0;
      }
    }
    if (as_json)
      std::cout << reply.dump() << '\n';
    else
      view(reply, std::cout);
    return 0;
  } catch (const failure& f) {
    std::cerr << "chatctl: " << f.why << '\n';
    return 1;
  } catch (const std::exception& e) { // an answer not shaped as the API says
    std::cerr << "chatctl: unexpected answer from the node: " << e.what() << '\n';
    return 1;
  }
}
