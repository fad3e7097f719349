#pragma once

namespace chat::actors {

class frame;
class outbox;
struct node_handles;
struct node_options;

} // namespace chat::actors
