// Client side of ipcd's LOOKUP and INBOUND (DESIGN §5.1, §8).
#include "ipc/broker.hpp"

#include <nlohmann/json.hpp>

#include "ipc/client.hpp"
#include "ipc/connection.hpp"
#include "ipc/error.hpp"
#include "ipc/fd_async.hpp"
#include "ipc/rundir.hpp"

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

// Connecting to ipcd: "not-found" there means ipcd is not running.
UniqueFd connect_broker(const std::filesystem::path& rundir, std::chrono::milliseconds timeout) {
  try {
    return connect_unix(socket_path(rundir, broker_name()), timeout);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::not_found)
      throw Error(ErrorCode::unavailable, "ipcd is not running (" + e.text() + ")");
    throw;
  }
}

asio::awaitable<UnixSocket> async_connect_broker(const std::filesystem::path& rundir, std::chrono::milliseconds timeout) {
  ConnectOptions options;
  options.rundir = rundir;
  options.timeout = timeout;
  options.network = "";  // ipcd itself is never routed
  try {
    co_return co_await async_connect(broker_name(), options);
  } catch (const Error& e) {
    if (e.code() != ErrorCode::not_found) throw;
  }
  throw Error(ErrorCode::unavailable, "ipcd is not running (nothing answers on " +
                                          socket_path(rundir, broker_name()).string() + ")");
}

asio::awaitable<UnixSocket> async_request(const std::filesystem::path& rundir, Message request,
                                          std::chrono::milliseconds timeout) {
  UnixSocket socket = co_await async_connect_broker(rundir, timeout);
  co_await async_send_frame_with_fd(socket, request, -1, timeout);
  UniqueFd fd = take_answer(co_await async_recv_frame_with_fd(socket, max_request_payload, timeout));
  UnixSocket service(socket.get_executor());
  service.assign(asio::local::stream_protocol(), fd.release());
  co_return service;
}

}  // namespace

UniqueFd lookup(const std::filesystem::path& rundir, const ServiceName& service, std::string_view routes,
                std::chrono::milliseconds timeout) {
  UniqueFd broker = connect_broker(rundir, timeout);
  const Message request{MessageType::lookup, 0, service.str() + ";" + std::string(routes)};
  send_frame_with_fd(broker.get(), request, -1, static_cast<int>(timeout.count()));
  return take_answer(recv_frame_with_fd(broker.get(), max_request_payload, static_cast<int>(timeout.count())));
}

asio::awaitable<UnixSocket> async_lookup(std::filesystem::path rundir, ServiceName service, std::string routes,
                                         std::chrono::milliseconds timeout) {
  // The request is a named local, not a temporary in the co_await expression: GCC 12 destroys
  // such temporaries twice when they are passed by value to a coroutine (a double free).
  Message request{MessageType::lookup, 0, service.str() + ";" + routes};
  co_return co_await async_request(rundir, std::move(request), timeout);
}

asio::awaitable<UnixSocket> async_inbound(std::filesystem::path rundir, InboundRequest request,
                                          std::chrono::milliseconds timeout) {
  nlohmann::json body{{"service", request.service}, {"scheme", request.scheme}, {"peer", request.peer}};
  if (!request.identity.empty()) body["identity"] = request.identity;
  if (!request.certificate.empty()) body["certificate"] = request.certificate;
  Message message{MessageType::inbound, 0, body.dump()};  // a named local: see async_lookup
  co_return co_await async_request(rundir, std::move(message), timeout);
}

}  // namespace ipc
