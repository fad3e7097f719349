#include "chat/actors/errc.hpp"

namespace chat::actors {

std::string to_string(errc x) {
  switch (x) {
    case errc::storage_failed:
      return "storage_failed";
    case errc::storage_full:
      return "storage_full";
    case errc::room_unavailable:
      return "room_unavailable";
    case errc::not_joined:
      return "not_joined";
    case errc::bad_argument:
      return "bad_argument";
    case errc::not_found:
      return "not_found";
    case errc::overloaded:
      return "overloaded";
    case errc::fenced:
      return "fenced";
  }
  return "unknown";
}

} // namespace chat::actors
