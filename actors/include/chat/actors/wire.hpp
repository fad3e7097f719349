#pragma once

// How message types are named on the wire, once per type: the name CAF's type
// registry knows a type by (register_types, node.cpp) is the one its inspect
// function reports, both from `wire_name<T>`.

#include <caf/meta/type_name.hpp>

namespace chat::msg {

/// A list of types (nothing else).
template <class... Ts>
struct type_list {};

/// The name `T` crosses nodes under. Defined by CHAT_WIRE_TYPE (structs of
/// this module) or CHAT_WIRE_NAME (other types).
template <class T>
struct wire_name;

} // namespace chat::msg

/// In namespace chat::msg: `T`'s wire name ("chat::msg::T"). CAF's inspect for
/// `T` over the fields given (as `x.field`) is CHAT_WIRE_TYPE's.
#define CHAT_WIRE_NAME(T, name)                                                                \
  template <>                                                                                  \
  struct wire_name<T> {                                                                        \
    static constexpr const char* value = name;                                                 \
  };

/// In namespace chat::msg: `T`'s wire name and its inspect function.
#define CHAT_WIRE_TYPE(T, ...)                                                                 \
  CHAT_WIRE_NAME(T, "chat::msg::" #T)                                                          \
  template <class Inspector>                                                                   \
  typename Inspector::result_type inspect(Inspector& f, T& x) {                                \
    return f(caf::meta::type_name(wire_name<T>::value), __VA_ARGS__);                          \
  }
