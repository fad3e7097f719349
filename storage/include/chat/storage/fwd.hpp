#pragma once

namespace chat::storage {

class store;
struct status;
struct open_options;
struct message_record;
struct room_meta;
struct room_append;
struct room_append_result;

} // namespace chat::storage
