#include "views.hpp"

#include <ctime>

#include "table.hpp"

namespace chatctl {

namespace {

using json = nlohmann::json;

// obj[key], or null when obj is not an object or has no such key (const json's
// operator[] would be undefined behaviour then).
const json& at(const json& obj, const char* key) {
  static const json none;
  return obj.is_object() && obj.contains(key) ? obj[key] : none;
}

// A field as text: strings bare, null as "-", numbers and the rest as JSON.
std::string text(const json& v) {
  if (v.is_null())
    return "-";
  if (v.is_string())
    return v.get<std::string>();
  return v.dump();
}

std::string field(const json& obj, const char* key) {
  return obj.contains(key) ? text(obj[key]) : "-";
}

// Unix ms as UTC time ("-" for 0: never).
std::string when(const json& v) {
  if (!v.is_number() || v.get<int64_t>() <= 0)
    return "-";
  auto s = static_cast<std::time_t>(v.get<int64_t>() / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

// In a cluster a ballot's high 32 bits are the member set it was proposed
// under (ADR 10): "set.counter" reads better than one large number.
std::string epoch(const json& v) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() >> 32 == 0)
    return text(v);
  auto n = v.get<uint64_t>();
  return std::to_string(n >> 32) + "." + std::to_string(n & 0xffffffffu) + " (member set "
         + std::to_string(n >> 32) + ")";
}

std::string joined(const json& xs) {
  std::string out;
  for (auto& x : xs) {
    if (!out.empty())
      out += ',';
    out += text(x);
  }
  return out.empty() ? "-" : out;
}

} // namespace

void print_nodes(const json& reply, std::ostream& out) {
  out << "view " << text(at(reply, "view")) << ", as " << text(at(reply, "self"))
      << " sees it\n";
  table t{{"NODE", "STATUS", "HTTP", "CLUSTER", "CONNECTIONS", "ROOMS"}};
  for (auto& n : at(reply, "nodes"))
    t.add({field(n, "id"), field(n, "status"), field(n, "http"), field(n, "cluster"),
           field(n, "connections"), field(n, "rooms")});
  t.print(out);
}

void print_rooms(const json& reply, std::ostream& out) {
  table t{{"ROOM", "HOME", "SEQ", "MEMBERS"}};
  for (auto& r : at(reply, "rooms"))
    t.add({field(r, "room"), field(r, "home"), field(r, "seq"), field(r, "members")});
  if (t.empty())
    out << "no active rooms\n";
  else
    t.print(out);
}

void print_room(const json& reply, std::ostream& out) {
  out << "room      " << field(reply, "room") << '\n';
  out << "home      " << field(reply, "home") << "   replicas " << joined(at(reply, "replicas"))
      << '\n';
  out << "seq       " << field(reply, "seq") << "   epoch " << epoch(at(reply, "epoch"))
      << "   commit " << field(reply, "commit") << '\n';
  std::string vc;
  for (auto& [node, n] : at(reply, "vc").items())
    vc += (vc.empty() ? "" : " ") + node + "=" + text(n);
  out << "vc        " << (vc.empty() ? "-" : vc) << '\n';
  out << "active    " << field(reply, "active") << "   mailbox " << field(reply, "mailbox")
      << "\n\n";
  table members{{"MEMBER", "NODE", "CONNECTION"}};
  for (auto& m : at(reply, "members"))
    members.add({field(m, "user"), field(m, "node"), field(m, "connection")});
  if (members.empty())
    out << "no members connected\n";
  else
    members.print(out);
  out << '\n';
  table recent{{"SEQ", "FROM", "ID", "SENT", "BODY"}};
  for (auto& m : at(reply, "recent")) {
    auto body = m.contains("body") ? at(m, "body").dump() : "-";
    if (body.size() > 60)
      body = body.substr(0, 57) + "...";
    recent.add({field(m, "seq"), field(m, "from"), field(m, "id"), when(at(m, "ts")), body});
  }
  if (recent.empty())
    out << "no recent messages\n";
  else
    recent.print(out);
}

void print_connections(const json& reply, std::ostream& out) {
  table t{{"ID", "USER", "NODE", "TRANSPORT", "REMOTE", "ROOMS", "QUEUED", "OPENED"}};
  for (auto& c : at(reply, "connections"))
    t.add({field(c, "id"), field(c, "user"), field(c, "node"), field(c, "transport"),
           field(c, "remote"), joined(at(c, "rooms")), field(c, "queued_bytes"),
           when(at(c, "opened_at"))});
  if (t.empty())
    out << "no connections\n";
  else
    t.print(out);
}

void print_presence(const json& reply, std::ostream& out) {
  out << field(reply, "user") << " is " << field(reply, "status") << ", last seen "
      << when(at(reply, "last_seen")) << '\n';
  table t{{"CONNECTION", "NODE", "LAST HEARTBEAT"}};
  for (auto& d : at(reply, "devices"))
    t.add({field(d, "connection"), field(d, "node"), when(at(d, "last_heartbeat"))});
  if (!t.empty())
    t.print(out);
}

void print_actors(const json& reply, std::ostream& out) {
  out << "actors on " << field(reply, "node") << '\n';
  table t{{"KIND", "COUNT", "MAILBOX MAX"}};
  for (auto& k : at(reply, "kinds"))
    t.add({field(k, "kind"), field(k, "count"), field(k, "mailbox_max")});
  t.print(out);
  auto& s = at(reply, "store");
  if (!s.is_object())
    return;
  out << "\nstore: " << field(s, "pending") << " pending, " << field(s, "appends")
      << " appends in " << field(s, "commits") << " commits"
      << (s.value("failing", false) ? ", FAILING" : "") << '\n';
  table p{{"ROCKSDB PROPERTY", "VALUE"}};
  for (auto& [name, v] : at(at(s, "rocksdb"), "properties").items())
    p.add({name, text(v)});
  p.print(out);
}

} // namespace chatctl
