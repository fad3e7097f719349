#pragma once

namespace chat::runtime {

struct endpoint;
struct node_config;

} // namespace chat::runtime
