#include "fault_control.hpp"

#include <set>

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace chatd {

namespace {

using json = nlohmann::json;

constexpr int64_t max_delay_ms = 60000;

// Checks the whole request before any fault is set: a bad one changes nothing.
std::string invalid(const json& req) {
  if (!req.is_object())
    return "the body must be a JSON object, e.g. {\"isolate\": true}";
  for (auto& [key, v] : req.items()) {
    if (key == "heal" || key == "isolate" || key == "stuck_actor") {
      if (!v.is_boolean())
        return "'" + key + "' must be true or false";
    } else if (key == "partition") {
      if (!v.is_array() || v.empty())
        return "'partition' must be a non-empty list of node ids";
      for (auto& id : v)
        if (!id.is_string() || id.get<std::string>().empty())
          return "'partition' must be a non-empty list of node ids";
    } else if (key == "drop") {
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1)
        return "'drop' must be a probability from 0 to 1";
    } else if (key == "delay") {
      if (!v.is_array() || v.size() != 2 || !v[0].is_number_integer()
          || !v[1].is_number_integer() || v[0].get<int64_t>() < 0
          || v[0].get<int64_t>() > v[1].get<int64_t>() || v[1].get<int64_t>() > max_delay_ms)
        return "'delay' must be [min, max] in ms with 0 <= min <= max <= 60000";
    } else {
      return "unknown fault '" + key + "' (heal, isolate, partition, drop, delay, stuck_actor)";
    }
  }
  return {};
}

} // namespace

std::function<bool(const std::string&, std::string&)>
fault_control(caf::actor_system& sys, chat::cluster::fault_injector& faults, std::string self,
              const std::unique_ptr<chat::cluster::membership>& members) {
  return [&sys, &faults, self = std::move(self), &members](const std::string& body,
                                                           std::string& reply) {
    auto req = json::parse(body, nullptr, false);
    if (auto why = invalid(req); !why.empty()) {
      reply = why;
      return false;
    }
    // Links are named by the peer's endpoint until the injector learns its id.
    std::set<std::string> known;
    if (members)
      for (auto& m : members->members()) {
        known.insert(m.node_id);
        std::string err;
        if (auto ep = chat::runtime::parse_endpoint(m.endpoint, err))
          faults.name(m.node_id, *ep);
      }
    if (req.contains("partition"))
      for (auto& id : req["partition"])
        if (known.count(id.get<std::string>()) == 0 || id.get<std::string>() == self) {
          reply = "'partition': '" + id.get<std::string>() + "' is not another member of "
                  + "this node's cluster";
          return false;
        }
    if (req.value("heal", false))
      faults.heal();
    if (req.value("isolate", false))
      faults.isolate(self);
    if (req.contains("partition"))
      for (auto& id : req["partition"])
        faults.partition(self, id.get<std::string>());
    if (req.contains("drop"))
      faults.drop(req["drop"].get<double>());
    if (req.contains("delay"))
      faults.delay(std::chrono::milliseconds(req["delay"][0].get<int64_t>()),
                   std::chrono::milliseconds(req["delay"][1].get<int64_t>()));
    // As an actor that waits on a vanished peer without a timeout: nothing
    // ends it, so the actor system's destructor would wait forever.
    if (req.value("stuck_actor", false))
      sys.spawn([](caf::blocking_actor* waiter) {
        waiter->receive([](caf::ok_atom) {});
      });
    spdlog::warn("fault injection: {}", req.dump());
    auto c = faults.stats();
    reply = json{{"seed", faults.seed()},
                 {"connections", c.connections},
                 {"refused", c.refused},
                 {"frames", c.frames},
                 {"dropped", c.dropped}}
              .dump();
    return true;
  };
}

} // namespace chatd
