// Client side of ipcd's LOOKUP and INBOUND (DESIGN §5.1, §8), and the peer description INBOUND
// and ADOPT (§15) share.
#include "ipc/broker.hpp"

#include "ipc/adopt.hpp"

#include <algorithm>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "ipc/client.hpp"
#include "ipc/connection.hpp"
#include "ipc/error.hpp"
#include "ipc/fd_async.hpp"
#include "ipc/json_frame.hpp"
#include "ipc/log.hpp"
#include "ipc/rundir.hpp"
#include "ipc/text.hpp"
#include "ipc/ws/mapping.hpp"

namespace ipc {
namespace {

const ServiceName& broker_name() {
  static const ServiceName name(broker_socket);
  return name;
}

// ipcd's answer: DATA "ok" (or, to an INBOUND that may adopt, "adopt") with an fd, or ERROR.
// Whether it was "adopt".
bool check_answer(const FrameWithFd& answer, bool adopt_allowed) {
  if (answer.message.type == MessageType::error) throw Error::from_payload(answer.message.payload);
  const bool adopt = adopt_allowed && answer.message.payload == "adopt";
  if (answer.message.type != MessageType::data || (answer.message.payload != "ok" && !adopt))
    throw Error(ErrorCode::internal, "unexpected answer from ipcd (type " +
                                         std::to_string(static_cast<int>(answer.message.type)) + ")");
  if (!answer.fd) throw Error(ErrorCode::internal, "ipcd answered ok without a file descriptor");
  return adopt;
}

UniqueFd take_answer(FrameWithFd answer) {
  (void)check_answer(answer, false);
  return std::move(answer.fd);
}

UnixSocket as_socket(const asio::any_io_executor& executor, UniqueFd fd) {
  UnixSocket socket(executor);
  socket.assign(asio::local::stream_protocol(), fd.release());
  return socket;
}

// One request on a connection to ipcd, and the service's connection it answers with.
asio::awaitable<UnixSocket> async_ask(UnixSocket broker, Message request, std::chrono::milliseconds timeout) {
  co_await async_send_frame_with_fd(broker, request, -1, timeout);
  auto answer = co_await async_recv_frame_with_fd(broker, max_request_payload, timeout);
  co_return as_socket(broker.get_executor(), take_answer(std::move(answer)));
}

}  // namespace

std::string why_reserved(std::string_view name) {
  static constexpr std::string_view adopt_suffix = "@adopt";
  if (name.size() > adopt_suffix.size() && name.substr(name.size() - adopt_suffix.size()) == adopt_suffix)
    return "reserved name '" + std::string(name) + "': a service's adoption socket, never a service";
  for (const std::string_view daemon : {broker_socket, legacy_broker_socket, "tcp", "tls", "ws", "wss", "udp"}) {
    if (name == daemon) return "reserved name '" + std::string(name) + "': a socket of the suite's own daemons, never a service";
  }
  return "";
}

std::optional<UniqueFd> connect_broker(const std::filesystem::path& rundir, std::chrono::milliseconds timeout) {
  try {
    return connect_unix(socket_path(rundir, broker_name()), timeout);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::not_found) throw;
  }
  return std::nullopt;
}

asio::awaitable<std::optional<UnixSocket>> async_connect_broker(std::filesystem::path rundir,
                                                                std::chrono::milliseconds timeout) {
  try {
    co_return co_await async_connect_unix(socket_path(rundir, broker_name()), timeout);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::not_found) throw;
  }
  co_return std::nullopt;
}

UniqueFd lookup(UniqueFd broker, const ServiceName& service, std::string_view routes, std::chrono::milliseconds timeout) {
  const Message request{MessageType::lookup, 0, service.str() + ";" + std::string(routes)};
  send_frame_with_fd(broker.get(), request, -1, static_cast<int>(timeout.count()));
  return take_answer(recv_frame_with_fd(broker.get(), max_request_payload, static_cast<int>(timeout.count())));
}

asio::awaitable<UnixSocket> async_lookup(UnixSocket broker, ServiceName service, std::string routes,
                                         std::chrono::milliseconds timeout) {
  // The request is a named local, not a temporary in the co_await expression: GCC 12 destroys
  // such temporaries twice when they are passed by value to a coroutine (a double free).
  Message request{MessageType::lookup, 0, service.str() + ";" + routes};
  co_return co_await async_ask(std::move(broker), std::move(request), timeout);
}

asio::awaitable<InboundAnswer> async_inbound_answer(std::filesystem::path rundir, InboundRequest request,
                                                    std::chrono::milliseconds timeout) {
  Message message{MessageType::inbound, 0, encode_inbound_request(request)};  // a named local: see async_lookup
  auto broker = co_await async_connect_broker(rundir, timeout);
  if (!broker) {
    // The answer goes to a remote peer: the path is for this host's log only.
    log_warn("inbound ", request.service, ": ipcd is not running (nothing answers on ",
             socket_path(rundir, broker_name()).string(), ")");
    throw Error(ErrorCode::unavailable, "ipcd is not running on this host");
  }
  co_await async_send_frame_with_fd(*broker, message, -1, timeout);
  auto answer = co_await async_recv_frame_with_fd(*broker, max_request_payload, timeout);
  const bool adoption = check_answer(answer, request.adopt);
  co_return InboundAnswer{as_socket(broker->get_executor(), std::move(answer.fd)), adoption};
}

asio::awaitable<UnixSocket> async_inbound(std::filesystem::path rundir, InboundRequest request,
                                          std::chrono::milliseconds timeout) {
  request.adopt = false;
  InboundAnswer answer = co_await async_inbound_answer(std::move(rundir), std::move(request), timeout);
  co_return std::move(answer.socket);
}

namespace {

// The peer description INBOUND and ADOPT share: {"service", "scheme", "peer", "identity",
// "certificate"}.
nlohmann::json inbound_json(const InboundRequest& request) {
  nlohmann::json body{{"service", request.service}, {"scheme", to_string(request.scheme)}, {"peer", request.peer}};
  if (!request.identity.empty()) body["identity"] = request.identity;
  if (!request.certificate.empty()) body["certificate"] = request.certificate;
  return body;
}

}  // namespace

std::string encode_inbound_request(const InboundRequest& request) {
  nlohmann::json body = inbound_json(request);
  if (request.adopt) body["adopt"] = true;
  if (request.replaces_adoption) body["replaces_adoption"] = true;
  return body.dump();
}

namespace {

InboundRequest inbound_from_json(const nlohmann::json& body, const char* what,
                                 std::initializer_list<std::string_view> other_keys) {
  for (const auto& [key, value] : body.items()) {
    const bool text = key == "service" || key == "scheme" || key == "peer" || key == "identity" || key == "certificate";
    if (!text && std::find(other_keys.begin(), other_keys.end(), key) == other_keys.end())
      throw Error(ErrorCode::bad_request, std::string(what) + ": unknown key '" + printable(key) + "'");
    if (text && !value.is_string())
      throw Error(ErrorCode::bad_request, std::string(what) + ": '" + key + "' must be a string");
  }
  if (!body.contains("service") || !body.contains("scheme"))
    throw Error(ErrorCode::bad_request, std::string(what) + ": 'service' and 'scheme' are required");
  const auto scheme_text = body["scheme"].get<std::string>();
  const auto scheme = parse_scheme(scheme_text);
  if (!scheme || *scheme == Scheme::unix_socket)
    throw Error(ErrorCode::bad_request, std::string(what) + ": unknown scheme '" + printable(scheme_text) + "'");
  InboundRequest request;
  request.service = body["service"].get<std::string>();
  request.scheme = *scheme;
  request.peer = body.value("peer", "");
  request.identity = body.value("identity", "");
  request.certificate = body.value("certificate", "");
  return request;
}

}  // namespace

InboundRequest parse_inbound_request(const Message& frame) {
  const nlohmann::json body = parse_json_object(frame, MessageType::inbound, "INBOUND");
  InboundRequest request = inbound_from_json(body, "INBOUND", {"adopt", "replaces_adoption"});
  for (const char* flag : {"adopt", "replaces_adoption"}) {
    if (body.contains(flag) && !body[flag].is_boolean())
      throw Error(ErrorCode::bad_request, std::string("INBOUND: '") + flag + "' must be true or false");
  }
  request.adopt = body.value("adopt", false);
  request.replaces_adoption = body.value("replaces_adoption", false);
  return request;
}

// ADOPT (adopt.hpp) carries the same description.
Message encode_adopt(const Adoption& adoption) {
  nlohmann::json body = inbound_json(adoption.peer);
  if (adoption.max_per_peer > 0) body["max_per_peer"] = adoption.max_per_peer;
  if (!adoption.request.empty()) body["request"] = adoption.request;
  if (!adoption.subprotocol.empty()) body["subprotocol"] = adoption.subprotocol;
  return Message{MessageType::adopt, 0, body.dump()};
}

Adoption parse_adopt(const Message& frame) {
  const nlohmann::json body = parse_json_object(frame, MessageType::adopt, "ADOPT");
  Adoption adoption{inbound_from_json(body, "ADOPT", {"max_per_peer", "request", "subprotocol"}), 0, {}, {}};
  if (body.contains("max_per_peer")) {
    if (!body["max_per_peer"].is_number_unsigned())
      throw Error(ErrorCode::bad_request, "ADOPT: 'max_per_peer' must be a whole number");
    adoption.max_per_peer = body["max_per_peer"].get<std::size_t>();
  }
  for (const char* key : {"request", "subprotocol"}) {
    if (body.contains(key) && !body[key].is_string())
      throw Error(ErrorCode::bad_request, std::string("ADOPT: '") + key + "' must be a string");
  }
  adoption.request = body.value("request", "");
  adoption.subprotocol = body.value("subprotocol", "");
  const bool ws = adoption.peer.scheme == Scheme::ws;
  if (ws && adoption.request.empty())
    throw Error(ErrorCode::bad_request, "ADOPT: a ws:// connection needs the 'request' it upgrades with");
  if (!ws && (body.contains("request") || body.contains("subprotocol")))
    throw Error(ErrorCode::bad_request, "ADOPT: 'request' and 'subprotocol' are for ws:// connections only");
  if (!adoption.subprotocol.empty() && adoption.subprotocol != ws::subprotocol_text &&
      adoption.subprotocol != ws::subprotocol_frame)
    throw Error(ErrorCode::bad_request, "ADOPT: unknown subprotocol '" + printable(adoption.subprotocol) +
                                            "' (ipc.text or ipc.frame)");
  return adoption;
}

}  // namespace ipc
