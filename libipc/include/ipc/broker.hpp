// Talking to ipcd, the broker (DESIGN §5, §8): the lookup a client makes for a routed
// service, and the INBOUND request a protocol daemon makes for a remote peer. Both end with
// ipcd passing a connected fd (SCM_RIGHTS) or an ERROR whose code reaches the caller as
// ipc::Error.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "ipc/asio.hpp"
#include "ipc/fd.hpp"
#include "ipc/service_name.hpp"

namespace ipc {

// ipcd's sockets in the run directory.
inline constexpr const char* broker_socket = "ipc";
inline constexpr const char* legacy_broker_socket = "network";
// Largest request ipcd takes (LOOKUP, INBOUND, CONNECT, STATUS commands).
inline constexpr std::size_t max_request_payload = 64 * 1024;

// LOOKUP "SERVICE;ROUTES" on RUNDIR/ipc. Returns the fd of the connection to the service.
// ipcd not running: ipc::Error(unavailable).
[[nodiscard]] UniqueFd lookup(const std::filesystem::path& rundir, const ServiceName& service, std::string_view routes,
                              std::chrono::milliseconds timeout);
[[nodiscard]] asio::awaitable<UnixSocket> async_lookup(std::filesystem::path rundir, ServiceName service,
                                                       std::string routes, std::chrono::milliseconds timeout);

// What a protocol daemon tells ipcd about a remote peer (DESIGN §8).
struct InboundRequest {
  std::string service;   // as the remote asked for it (ipcd validates it)
  std::string scheme;    // "tcp", "tls", "ws", "wss"
  std::string peer;      // "192.0.2.7:51234", "[2001:db8::1]:443"
  std::string identity;  // "" when not authenticated
  // The name a verified TLS certificate of the peer proves, "" when none. Sent apart from the
  // identity so that ipcd lets only a certificate stand for a host name in its rules (a PSK
  // identity or a user name must not pass for "tls:example.com").
  std::string certificate;
};

// INBOUND on RUNDIR/ipc. Returns the fd of the local service's connection.
[[nodiscard]] asio::awaitable<UnixSocket> async_inbound(std::filesystem::path rundir, InboundRequest request,
                                                        std::chrono::milliseconds timeout);

}  // namespace ipc
