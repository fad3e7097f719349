#pragma once

// The admin API's replies as people read them (chatctl without --json).

#include <ostream>

#include <nlohmann/json.hpp>

namespace chatctl {

void print_nodes(const nlohmann::json& reply, std::ostream& out);
void print_rooms(const nlohmann::json& reply, std::ostream& out);
void print_room(const nlohmann::json& reply, std::ostream& out);
void print_connections(const nlohmann::json& reply, std::ostream& out);
void print_presence(const nlohmann::json& reply, std::ostream& out);
void print_actors(const nlohmann::json& reply, std::ostream& out);

} // namespace chatctl
