#pragma once

namespace chat::gateway {

class server;
struct server_options;
class ws_reader;
struct command_error;

} // namespace chat::gateway
