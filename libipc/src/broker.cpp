// Client side of ipcd's LOOKUP and INBOUND (DESIGN §5.1, §8).
#include "ipc/broker.hpp"

#include <nlohmann/json.hpp>

#include "ipc/client.hpp"
#include "ipc/connection.hpp"
#include "ipc/error.hpp"
#include "ipc/fd_async.hpp"
#include "ipc/json_frame.hpp"
#include "ipc/log.hpp"
#include "ipc/rundir.hpp"
#include "ipc/text.hpp"

namespace ipc {
namespace {

const ServiceName& broker_name() {
  static const ServiceName name(broker_socket);
  return name;
}

// ipcd's answer: DATA "ok" with an fd, or ERROR.
UniqueFd take_answer(FrameWithFd answer) {
  if (answer.message.type == MessageType::error) throw Error::from_payload(answer.message.payload);
  if (answer.message.type != MessageType::data || answer.message.payload != "ok")
    throw Error(ErrorCode::internal, "unexpected answer from ipcd (type " +
                                         std::to_string(static_cast<int>(answer.message.type)) + ")");
  if (!answer.fd) throw Error(ErrorCode::internal, "ipcd answered ok without a file descriptor");
  return std::move(answer.fd);
}

UnixSocket take_service(const asio::any_io_executor& executor, FrameWithFd answer) {
  UniqueFd fd = take_answer(std::move(answer));
  UnixSocket service(executor);
  service.assign(asio::local::stream_protocol(), fd.release());
  return service;
}

// One request on a connection to ipcd, and the service's connection it answers with.
asio::awaitable<UnixSocket> async_ask(UnixSocket broker, Message request, std::chrono::milliseconds timeout) {
  co_await async_send_frame_with_fd(broker, request, -1, timeout);
  auto answer = co_await async_recv_frame_with_fd(broker, max_request_payload, timeout);
  co_return take_service(broker.get_executor(), std::move(answer));
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

asio::awaitable<UnixSocket> async_inbound(std::filesystem::path rundir, InboundRequest request,
                                          std::chrono::milliseconds timeout) {
  Message message{MessageType::inbound, 0, encode_inbound_request(request)};  // a named local: see async_lookup
  auto broker = co_await async_connect_broker(rundir, timeout);
  if (!broker) {
    // The answer goes to a remote peer: the path is for this host's log only.
    log_warn("inbound ", request.service, ": ipcd is not running (nothing answers on ",
             socket_path(rundir, broker_name()).string(), ")");
    throw Error(ErrorCode::unavailable, "ipcd is not running on this host");
  }
  co_return co_await async_ask(std::move(*broker), std::move(message), timeout);
}

std::string encode_inbound_request(const InboundRequest& request) {
  nlohmann::json body{{"service", request.service}, {"scheme", to_string(request.scheme)}, {"peer", request.peer}};
  if (!request.identity.empty()) body["identity"] = request.identity;
  if (!request.certificate.empty()) body["certificate"] = request.certificate;
  return body.dump();
}

InboundRequest parse_inbound_request(const Message& frame) {
  const nlohmann::json body = parse_json_object(frame, MessageType::inbound, "INBOUND");
  for (const auto& [key, value] : body.items()) {
    if (key != "service" && key != "scheme" && key != "peer" && key != "identity" && key != "certificate")
      throw Error(ErrorCode::bad_request, "INBOUND: unknown key '" + printable(key) + "'");
    if (!value.is_string()) throw Error(ErrorCode::bad_request, "INBOUND: '" + key + "' must be a string");
  }
  if (!body.contains("service") || !body.contains("scheme"))
    throw Error(ErrorCode::bad_request, "INBOUND: 'service' and 'scheme' are required");
  const auto scheme_text = body["scheme"].get<std::string>();
  const auto scheme = parse_scheme(scheme_text);
  if (!scheme || *scheme == Scheme::unix_socket)
    throw Error(ErrorCode::bad_request, "INBOUND: unknown scheme '" + printable(scheme_text) + "'");
  return {body["service"].get<std::string>(), *scheme, body.value("peer", ""), body.value("identity", ""),
          body.value("certificate", "")};
}

}  // namespace ipc
