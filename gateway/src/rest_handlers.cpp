#include "rest_handlers.hpp"

#include <boost/beast/http.hpp>

#include "chat/actors/events.hpp"
#include "chat/gateway/codec.hpp"
#include "chat/runtime/prometheus.hpp"

namespace chat::gateway {

namespace web {
extern const std::string_view index_html;
extern const std::string_view client_js;
extern const std::string_view admin_html;
} // namespace web

namespace rest {

namespace {

using actors::wire_error;

void static_file(http_exchange& ex, const request& req, std::string_view type,
                 std::string content, bool framing_denied = false) {
  if (req.method() != http::verb::get && req.method() != http::verb::head)
    return ex.reply(method_not_allowed("use GET"));
  http_reply r;
  r.content_type = type;
  r.headers.emplace_back(http::field::cache_control, "no-cache");
  if (framing_denied) {
    // The console holds an admin token and has a close button: no other site
    // may frame it (clickjacking).
    r.headers.emplace_back(http::field::x_frame_options, "DENY");
  }
  r.body = std::move(content);
  ex.reply(std::move(r));
}

// The caller (the router resolved it) may access `room`; answers 403 otherwise.
bool may_access(http_exchange& ex, const std::string& room) {
  if (ex.caller->may_access(room))
    return true;
  ex.reply(error_reply(wire_error::forbidden, "not allowed in room '" + room + "'"));
  return false;
}

void history(http_exchange& ex, const target& t, std::string room) {
  if (!may_access(ex, room))
    return;
  msg::cmd_history cmd;
  cmd.room = std::move(room);
  bool has_before = false;
  for (auto* key : {"before", "after", "limit"}) {
    auto* v = t.param(key);
    if (v == nullptr)
      continue;
    auto n = parse_uint(*v);
    if (!n)
      return ex.reply(error_reply(wire_error::bad_request,
                                  std::string{"'"} + key + "' must be a non-negative integer"));
    if (key == std::string_view{"before"}) {
      cmd.window.before = *n;
      has_before = true;
    } else if (key == std::string_view{"after"}) {
      cmd.window.after = *n;
    } else {
      cmd.window.limit =
        *n > max_history_limit ? max_history_limit + 1 : static_cast<uint32_t>(*n);
    }
  }
  if (auto why = check_history_window(cmd.window, has_before); !why.empty())
    return ex.reply(error_reply(wire_error::bad_request, why));
  actors::read_history(ex.state->sys, ex.state->node, std::move(cmd), answer_with_frame(ex));
}

// Server-side publish: a token with the `publish` or `admin` scope (in --dev
// mode an anonymous request publishes as "server"), a JSON body {id, body}.
void publish(http_exchange& ex, const request& req, std::string room) {
  if (req[http::field::content_type].substr(0, 16) != "application/json")
    return ex.reply(error_reply(wire_error::bad_request,
                                "Content-Type must be application/json",
                                http::status::unsupported_media_type));
  if (!may_access(ex, room))
    return;
  auto& id = *ex.caller;
  bool anonymous_dev = id.user.empty();
  if (!anonymous_dev && !id.has_scope("publish") && !id.has_scope("admin"))
    return ex.reply(error_reply(wire_error::forbidden,
                                "publishing needs a token with the publish or admin scope"));
  auto parsed = parse_publish(req.body(), room);
  if (auto* err = std::get_if<command_error>(&parsed))
    return ex.reply(error_reply(err->code, err->message));
  auto cmd = std::get<msg::cmd_send>(std::move(parsed));
  actors::publish(ex.state->sys, ex.state->node, std::move(room),
                  anonymous_dev ? "server" : id.user, std::move(cmd.id), std::move(cmd.body),
                  answer_with_frame(ex));
}

} // namespace

void index_page(http_exchange& ex, const request& req, const target&) {
  static_file(ex, req, "text/html; charset=utf-8", std::string{web::index_html});
}

void client_js(http_exchange& ex, const request& req, const target&) {
  static_file(ex, req, "text/javascript; charset=utf-8", std::string{web::client_js});
}

void admin_page(http_exchange& ex, const request& req, const target&) {
  static_file(ex, req, "text/html; charset=utf-8", std::string{web::admin_html}, true);
}

void metrics(http_exchange& ex, const request& req, const target&) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  auto text = ex.state->node.metrics->prometheus();
  runtime::prometheus_text out;
  out.family("chat_connections", "gauge", "Open client connections, by transport.");
  auto counts = ex.state->connections->by_transport();
  for (auto t : {client_transport::ws, client_transport::sse, client_transport::poll})
    out.sample("chat_connections", {{"transport", transport_name(t)}},
               uint64_t{counts[static_cast<size_t>(t)]});
  ex.state->commands.write(out);
  text += out.str();
  static_file(ex, req, "text/plain; version=0.0.4; charset=utf-8", std::move(text));
}

void health(http_exchange& ex, const request& req, const target& t) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  bool ready = t.path == "/readyz";
  if (ready && !ex.state->accepting)
    return ex.reply(json_reply(http::status::service_unavailable, R"({"status":"stopping"})"));
  // A node that cannot store a message should get no new clients.
  if (ready && ex.state->node.metrics->storage_failing.load() != 0)
    return ex.reply(
      json_reply(http::status::service_unavailable, R"({"status":"storage_failing"})"));
  ex.reply(
    json_reply(http::status::ok, ready ? R"({"status":"ready"})" : R"({"status":"ok"})"));
}

// Tests only (chatd --fault-injection): the node's fault injector.
void fault_control(http_exchange& ex, const request& req, const target& t) {
  auto& control = ex.state->opts.fault_control;
  if (!control)
    return ex.reply(error_reply(wire_error::not_found, "no such endpoint: " + t.path));
  if (req.method() != http::verb::post)
    return ex.reply(method_not_allowed("use POST"));
  std::string reply;
  if (!control(req.body(), reply))
    return ex.reply(error_reply(wire_error::bad_request, reply));
  ex.reply(json_reply(http::status::ok, std::move(reply)));
}

void presence(http_exchange& ex, const request& req, const target&, std::string room) {
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET"));
  if (!may_access(ex, room))
    return;
  actors::room_presence(ex.state->sys, ex.state->node, std::move(room),
                        [self = ex.shared_from_this()](std::string json) {
                          self->reply(json_reply(http::status::ok, std::move(json)));
                        });
}

void messages(http_exchange& ex, const request& req, const target& t, std::string room) {
  if (req.method() == http::verb::post)
    return publish(ex, req, std::move(room));
  if (req.method() != http::verb::get)
    return ex.reply(method_not_allowed("use GET (history) or POST (publish)"));
  history(ex, t, std::move(room));
}

} // namespace rest
} // namespace chat::gateway
